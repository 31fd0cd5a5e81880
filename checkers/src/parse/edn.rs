//! Just enough EDN to read Jepsen's one-map-per-line histories:
//! `{:process 9, :type :ok, :f :get, :key "9", :value "x 2 0 y"}`.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    Keyword(String),
    Vector(Vec<Edn>),
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
        }
    }
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
    /// Byte offset of `s` in its line, for the columns in messages.
    base: usize,
}

/// Parses one whole map of keyword keys, e.g. a Jepsen operation.
pub fn parse_map(s: &str) -> Result<Vec<(String, Edn)>, String> {
    let mut r = Reader { s, pos: 0, base: 0 };
    r.skip_ws();
    r.expect('{')?;
    let mut out = Vec::new();
    loop {
        r.skip_ws();
        if r.eat('}') {
            break;
        }
        let key = match r.value()? {
            Edn::Keyword(k) => k,
            other => return Err(format!("map key {} is not a keyword", other.show())),
        };
        r.skip_ws();
        out.push((key, r.value()?));
    }
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
        base: offset,
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
        self.base + pos + 1
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
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.eat(']') {
                        return Ok(Edn::Vector(items));
                    }
                    items.push(self.value()?);
                }
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
            if c.is_whitespace() || matches!(c, ',' | '{' | '}' | '[' | ']' | '"') {
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
