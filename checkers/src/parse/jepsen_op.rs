//! What every Jepsen operation map has, read the same way by both Jepsen
//! readers: its client process, `:type`, `:f` and the number it goes by.
use super::edn::Edn;
use super::{error, InputError};

pub(crate) struct Header<'m> {
    /// None for `:process :nemesis` (any keyword process): not a client.
    pub(crate) process: Option<u64>,
    pub(crate) kind: &'m str,
    pub(crate) f: &'m str,
    /// Its `:index`, else line `n`.
    pub(crate) number: u64,
}

/// A map's field by name.
pub(crate) fn get<'m>(map: &'m [(String, Edn)], k: &str) -> Option<&'m Edn> {
    map.iter().find(|(key, _)| key == k).map(|(_, v)| v)
}

/// The header of the operation map on line `n`.
pub(crate) fn header(map: &[(String, Edn)], n: usize) -> Result<Header<'_>, InputError> {
    let field = |k: &str| get(map, k).ok_or_else(|| error(n, format!("missing :{k}")));
    let process = match field("process")? {
        Edn::Int(p) if *p >= 0 => Some(*p as u64),
        Edn::Keyword(_) => None,
        other => return Err(error(n, format!("bad :process {}", other.show()))),
    };
    let kind = match field("type")? {
        Edn::Keyword(k) => k.as_str(),
        other => return Err(error(n, format!("bad :type {}", other.show()))),
    };
    let f = match field("f")? {
        Edn::Keyword(f) => f.as_str(),
        other => return Err(error(n, format!("bad :f {}", other.show()))),
    };
    let number = match get(map, "index") {
        None => n as u64,
        Some(Edn::Int(i)) if *i >= 0 => *i as u64,
        Some(other) => return Err(error(n, format!("bad :index {}", other.show()))),
    };
    Ok(Header {
        process,
        kind,
        f,
        number,
    })
}
