//! Just enough EDN to read Jepsen's histories: one operation map per line
//! (`{:process 9, :type :ok, :f :get, :key "9", :value "x 2 0 y"}`), or a
//! whole `history.edn`, a vector of such maps over many lines, whose values
//! may hold nested maps, lists, sets, floats and tagged elements.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    Keyword(String),
    /// A vector, and also a list `( )` or a set `#{ }`.
    Vector(Vec<Edn>),
    /// A nested map (an operation's own map is its list of fields).
    Map(Vec<(Edn, Edn)>),
    /// A floating-point number, kept as written.
    Float(String),
}

impl Edn {
    pub fn show(&self) -> String {
        match self {
            Edn::Nil => "nil".to_string(),
            Edn::Bool(b) => b.to_string(),
            Edn::Int(i) => i.to_string(),
            Edn::Str(s) => format!("{s:?}"),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::Vector(v) => format!(
                "[{}]",
                v.iter().map(Edn::show).collect::<Vec<_>>().join(" ")
            ),
            Edn::Map(m) => format!(
                "{{{}}}",
                (m.iter().map(|(k, v)| format!("{} {}", k.show(), v.show())))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Edn::Float(f) => f.clone(),
        }
    }
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
    /// Byte offset of `s` in its line, for the columns in messages; `None`
    /// when `s` is a whole file (columns are then counted from each line).
    base: Option<usize>,
}

/// A top-level operation map: the line it starts on, and its fields.
pub type LineMap = (usize, Vec<(String, Edn)>);

/// The operation maps of a whole Jepsen `history.edn`: either one map per
/// line, or a vector of maps (Jepsen's own `[{...}\n {...}]`), each with the
/// 1-based line it starts on. An error gives the line and what is wrong.
pub fn parse_history(text: &str) -> Result<Vec<LineMap>, (usize, String)> {
    let mut r = Reader {
        s: text,
        pos: 0,
        base: None,
    };
    // The line at `r.pos`, counted on from the last position asked about
    // (positions only grow), so a long history is scanned once.
    let (mut seen, mut lines) = (0, 1);
    let mut line = |r: &Reader| {
        lines += r.s[seen..r.pos].matches('\n').count();
        seen = r.pos;
        lines
    };
    r.skip_ws();
    let vector = r.eat('[');
    let mut out = Vec::new();
    loop {
        r.skip_ws();
        if r.pos == r.s.len() {
            if vector {
                return Err((
                    line(&r),
                    "the history's vector is not closed with ']'".into(),
                ));
            }
            break;
        }
        if vector && r.eat(']') {
            r.skip_ws();
            if r.pos != r.s.len() {
                return Err((line(&r), "text after the history's closing ']'".into()));
            }
            break;
        }
        let at = line(&r);
        r.skip_tag().map_err(|e| (at, e))?;
        if r.peek() != Some('{') {
            let what = r.value().map(|v| v.show()).unwrap_or_else(|e| e);
            return Err((at, format!("expected an operation map, found {what}")));
        }
        r.pos += 1;
        out.push((at, r.fields().map_err(|e| (at, e))?));
    }
    Ok(out)
}

/// Parses one whole map of keyword keys, e.g. a Jepsen operation.
pub fn parse_map(s: &str) -> Result<Vec<(String, Edn)>, String> {
    let mut r = Reader {
        s,
        pos: 0,
        base: Some(0),
    };
    r.skip_ws();
    r.expect('{')?;
    let out = r.fields()?;
    r.skip_ws();
    if r.pos != s.len() {
        return Err(format!(
            "unexpected text after the map at column {}",
            r.column(r.pos)
        ));
    }
    Ok(out)
}

/// Parses one value filling the whole string, e.g. `[1 2]`.
pub fn parse_value(s: &str) -> Result<Edn, String> {
    parse_value_at(s, 0)
}

/// [`parse_value`] of a string that starts at byte `offset` of its line:
/// columns in errors are the line's.
pub fn parse_value_at(s: &str, offset: usize) -> Result<Edn, String> {
    let mut r = Reader {
        s,
        pos: 0,
        base: Some(offset),
    };
    r.skip_ws();
    let v = r.value()?;
    r.skip_ws();
    if r.pos != s.len() {
        return Err(format!("unexpected text after {}", v.show()));
    }
    Ok(v)
}

impl Reader<'_> {
    /// The 1-based column of byte `pos`.
    fn column(&self, pos: usize) -> usize {
        match self.base {
            Some(base) => base + pos + 1,
            None => pos - self.s[..pos].rfind('\n').map_or(0, |n| n + 1) + 1,
        }
    }

    /// The fields of a map whose `{` was just read, through its `}`.
    fn fields(&mut self) -> Result<Vec<(String, Edn)>, String> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.eat('}') {
                return Ok(out);
            }
            let key = match self.value()? {
                Edn::Keyword(k) => k,
                other => return Err(format!("map key {} is not a keyword", other.show())),
            };
            self.skip_ws();
            out.push((key, self.value()?));
        }
    }

    /// Skips a tag such as `#jepsen.history.Op` before a value: the value
    /// is read as if untagged.
    fn skip_tag(&mut self) -> Result<(), String> {
        if self.peek() == Some('#') && !self.s[self.pos..].starts_with("#{") {
            let at = self.pos;
            self.pos += 1;
            if self.word().is_empty() {
                return Err(format!("empty tag at column {}", self.column(at)));
            }
            self.skip_ws();
        }
        Ok(())
    }

    /// Items up to `close`, whose opening bracket was just read.
    fn items(&mut self, close: char) -> Result<Vec<Edn>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
        }
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += c.len_utf8();
        }
        hit
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "expected '{c}' at column {}",
                self.column(self.pos)
            ))
        }
    }

    /// Whitespace and commas (commas are whitespace in EDN).
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !(c.is_whitespace() || c == ',') {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn value(&mut self) -> Result<Edn, String> {
        match self.peek() {
            None => Err("unexpected end of line".to_string()),
            Some('"') => self.string(),
            Some('[') => {
                self.pos += 1;
                self.items(']').map(Edn::Vector)
            }
            Some('(') => {
                self.pos += 1;
                self.items(')').map(Edn::Vector)
            }
            Some('{') => {
                self.pos += 1;
                let flat = self.items('}')?;
                if flat.len() % 2 == 1 {
                    return Err(format!(
                        "a map with an odd number of forms before column {}",
                        self.column(self.pos)
                    ));
                }
                let mut pairs = flat.into_iter();
                let mut map = Vec::new();
                while let (Some(k), Some(v)) = (pairs.next(), pairs.next()) {
                    map.push((k, v));
                }
                Ok(Edn::Map(map))
            }
            Some('#') if self.s[self.pos..].starts_with("#{") => {
                self.pos += 2;
                self.items('}').map(Edn::Vector)
            }
            Some('#') => {
                self.skip_tag()?;
                self.value()
            }
            Some(':') => {
                self.pos += 1;
                let word = self.word();
                if word.is_empty() {
                    return Err(format!(
                        "empty keyword at column {}",
                        self.column(self.pos - 1)
                    ));
                }
                Ok(Edn::Keyword(word.to_string()))
            }
            Some(_) => {
                let start = self.pos;
                let column = self.column(start);
                let word = self.word();
                match word {
                    "nil" => Ok(Edn::Nil),
                    "true" => Ok(Edn::Bool(true)),
                    "false" => Ok(Edn::Bool(false)),
                    "" => Err(format!(
                        "unexpected '{}' at column {}",
                        self.peek().unwrap_or(' '),
                        column
                    )),
                    w if w.parse::<f64>().is_ok() && w.contains(['.', 'e', 'E']) => {
                        Ok(Edn::Float(w.to_string()))
                    }
                    w => w.parse().map(Edn::Int).map_err(|_| {
                        let digits = w.strip_prefix(['-', '+']).unwrap_or(w);
                        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                            format!(
                                "integer {w} at column {column} does not fit in 64 bits \
                                 (from -2^63 to 2^63-1)"
                            )
                        } else {
                            format!("cannot read {w:?} at column {column}: not a number, nil, true or false")
                        }
                    }),
                }
            }
        }
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | '{' | '}' | '[' | ']' | '(' | ')' | '"') {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.s[start..self.pos]
    }

    fn string(&mut self) -> Result<Edn, String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(format!(
                    "unterminated string starting at column {}",
                    self.column(start)
                ));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(Edn::Str(out)),
                '\\' => {
                    let Some(e) = self.peek() else { continue };
                    self.pos += e.len_utf8();
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
    }
}
