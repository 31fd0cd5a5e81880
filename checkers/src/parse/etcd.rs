//! Jepsen's etcd log: `INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2]`.
//! Lines of other shapes (Jepsen's other log output, the nemesis) are skipped.
use super::edn::{parse_value, Edn};
use super::pairing::{Completion, Pairing};
use super::{error, lines, InputError};
use crate::linearizability::Operation;
use crate::model::{RegisterInput, RegisterOutput};

const MARKER: &str = "jepsen.util - ";

/// Reads the log; an operation's times are its line numbers.
pub fn parse_etcd(
    bytes: &[u8],
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, InputError> {
    let mut pairing = Pairing::new();
    for (n, line) in lines(bytes)? {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let fields: Vec<&str> = line[at + MARKER.len()..].split('\t').collect();
        let [process, kind, f, value] = fields[..] else {
            continue;
        };
        // Client processes are numbers; `:nemesis` and the like are not.
        let Ok(process) = process.trim().parse::<u64>() else {
            continue;
        };
        let value = parse_value(value).map_err(|e| error(n, format!("bad value: {e}")))?;
        let time = n as u64;
        let kind = kind.trim();
        if kind == ":invoke" {
            let input = match (f.trim(), &value) {
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
                    return Err(error(
                        n,
                        format!("bad {} argument {}", f.trim(), value.show()),
                    ))
                }
                (other, _) => return Err(error(n, format!("unknown operation {other:?}"))),
            };
            pairing.invoke(n, process, input, time)?;
            continue;
        }
        let input = pairing.pending(n, process)?;
        let name = match input {
            RegisterInput::Read => ":read",
            RegisterInput::Write(_) => ":write",
            RegisterInput::Cas { .. } => ":cas",
        };
        if f.trim() != name {
            return Err(error(
                n,
                format!(
                    "completion {} does not match the in-flight {name}",
                    f.trim()
                ),
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
