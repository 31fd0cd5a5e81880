//! Jepsen's etcd log: `INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2]`. Fields
//! are separated by any run of whitespace (tabs, or spaces as in some of
//! Jepsen's output; Porcupine's parser reads them the same way).
//! Lines of other shapes (Jepsen's other log output, the nemesis) are skipped.
use super::edn::{parse_value_at, Edn};
use super::pairing::{Completion, Pairing};
use super::{error, lines, InputError, Numbered};
use crate::linearizability::Operation;
use crate::model::{RegisterInput, RegisterOutput};

const MARKER: &str = "jepsen.util";

/// The fields after `jepsen.util -`: process, type and function, then the
/// rest of the line as the value, with the value's byte offset in `line`.
/// `None` for a line of another shape.
fn fields(line: &str) -> Option<([&str; 3], &str, usize)> {
    let at = line.find(MARKER)? + MARKER.len();
    let rest = line[at..].strip_prefix(char::is_whitespace)?;
    let rest = rest.trim_start().strip_prefix('-')?;
    let mut rest = rest.strip_prefix(char::is_whitespace)?;
    let mut out = [""; 3];
    for field in &mut out {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        *field = &rest[..end];
        rest = &rest[end..];
    }
    let value = rest.trim();
    if value.is_empty() {
        return None;
    }
    let offset = value.as_ptr() as usize - line.as_ptr() as usize;
    Some((out, value, offset))
}

/// Reads the log; an operation's times are its line numbers.
pub fn parse_etcd(
    bytes: &[u8],
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, InputError> {
    parse_etcd_numbered(bytes).map(|n| n.ops)
}

/// [`parse_etcd`], each operation numbered by its invocation's line.
pub fn parse_etcd_numbered(
    bytes: &[u8],
) -> Result<Numbered<RegisterInput, RegisterOutput>, InputError> {
    let mut pairing = Pairing::new();
    for (n, line) in lines(bytes)? {
        let Some(([process, kind, f], value, offset)) = fields(line) else {
            continue;
        };
        // Client processes are numbers; `:nemesis` and the like are not.
        if !process.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(process) = process.parse::<u64>() else {
            let column = process.as_ptr() as usize - line.as_ptr() as usize + 1;
            return Err(error(
                n,
                format!("process {process} at column {column} does not fit in 64 bits"),
            ));
        };
        let value =
            parse_value_at(value, offset).map_err(|e| error(n, format!("bad value: {e}")))?;
        let time = n as u64;

        if kind == ":invoke" {
            let input = match (f, &value) {
                (":read", _) => RegisterInput::Read,
                (":write", Edn::Int(v)) => RegisterInput::Write(*v),
                (":cas", Edn::Vector(v)) => match v[..] {
                    [Edn::Int(from), Edn::Int(to)] => RegisterInput::Cas { from, to },
                    _ => {
                        return Err(error(
                            n,
                            format!("cas needs [FROM TO], got {}", value.show()),
                        ))
                    }
                },
                (":write" | ":cas", _) => {
                    return Err(error(n, format!("bad {} argument {}", f, value.show())))
                }
                (other, _) => return Err(error(n, format!("unknown operation {other:?}"))),
            };
            pairing.invoke(n, process, input, time, n as u64)?;
            continue;
        }
        let input = pairing.pending(n, process)?;
        let name = match input {
            RegisterInput::Read => ":read",
            RegisterInput::Write(_) => ":write",
            RegisterInput::Cas { .. } => ":cas",
        };
        if f != name {
            return Err(error(
                n,
                format!("completion {} does not match the in-flight {name}", f),
            ));
        }
        let completion = match (kind, input) {
            (":ok", RegisterInput::Read) => match value {
                Edn::Nil => Completion::Returned(RegisterOutput::Read(None)),
                Edn::Int(v) => Completion::Returned(RegisterOutput::Read(Some(v))),
                _ => return Err(error(n, format!("read returned {}", value.show()))),
            },
            (":ok", _) => Completion::Returned(RegisterOutput::Ok),
            (":fail", RegisterInput::Cas { .. }) => Completion::Returned(RegisterOutput::Failed),
            (":fail", _) => Completion::Dropped,
            (":info", input) => Completion::Unknown {
                keep: *input != RegisterInput::Read,
            },
            (other, _) => return Err(error(n, format!("unknown event type {other:?}"))),
        };
        pairing.complete(n, process, completion, time)?;
    }
    pairing.finish()
}
