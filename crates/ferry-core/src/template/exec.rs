//! Evaluation of a parsed template against [`TemplateData`].
use super::parse::{Command, Node, Operand, Pipeline};
use super::{Position, TemplateData, TemplateError, TemplateErrorKind, Value, funcs};

/// Longest output a template may produce.
pub const MAX_OUTPUT_LEN: usize = 64 * 1024;

fn exec_err(message: String, pos: Position) -> TemplateError {
    TemplateError {
        kind: TemplateErrorKind::Exec(message),
        position: Some(pos),
    }
}

pub(super) struct Exec<'a> {
    pub data: &'a TemplateData,
    pub out: String,
}

impl Exec<'_> {
    pub fn run(&mut self, nodes: &[Node]) -> Result<(), TemplateError> {
        for node in nodes {
            match node {
                Node::Text(t) => self.write(t, Position { column: 1 })?,
                Node::Action(p) => {
                    let v = self.pipeline(p)?;
                    self.write(&v.to_go_string(), p.pos)?;
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = false;
                    for (cond, body) in branches {
                        if self.pipeline(cond)?.truthy() {
                            self.run(body)?;
                            taken = true;
                            break;
                        }
                    }
                    if !taken {
                        self.run(otherwise)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn write(&mut self, s: &str, pos: Position) -> Result<(), TemplateError> {
        if self.out.len() + s.len() > MAX_OUTPUT_LEN {
            return Err(exec_err(
                format!("output is longer than {MAX_OUTPUT_LEN} bytes"),
                pos,
            ));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn pipeline(&self, p: &Pipeline) -> Result<Value, TemplateError> {
        let mut piped: Option<Value> = None;
        for cmd in &p.commands {
            piped = Some(self.command(cmd, piped)?);
        }
        Ok(piped.unwrap_or(Value::Nil))
    }

    fn command(&self, cmd: &Command, piped: Option<Value>) -> Result<Value, TemplateError> {
        let Some((first, rest)) = cmd.operands.split_first() else {
            return Err(exec_err("empty command".into(), cmd.pos));
        };
        match first {
            Operand::Func(name, pos) => self.call(name, *pos, rest, piped),
            _ if !rest.is_empty() || piped.is_some() => Err(exec_err(
                "cannot give arguments to a value that is not a function".into(),
                cmd.pos,
            )),
            other => self.operand(other, cmd.pos),
        }
    }

    fn call(
        &self,
        name: &str,
        pos: Position,
        operands: &[Operand],
        piped: Option<Value>,
    ) -> Result<Value, TemplateError> {
        // `and`/`or` short-circuit: later arguments are not evaluated.
        if name == "and" || name == "or" {
            let total = operands.len() + usize::from(piped.is_some());
            if total == 0 {
                return Err(exec_err(format!("{name} takes at least 1 argument"), pos));
            }
            let mut last = Value::Nil;
            let mut values = operands
                .iter()
                .map(|o| self.operand(o, pos))
                .chain(piped.into_iter().map(Ok));
            for v in values.by_ref() {
                last = v?;
                let stop = if name == "and" {
                    !last.truthy()
                } else {
                    last.truthy()
                };
                if stop {
                    break;
                }
            }
            return Ok(last);
        }
        let mut args = Vec::with_capacity(operands.len() + 1);
        for o in operands {
            args.push(self.operand(o, pos)?);
        }
        if let Some(v) = piped {
            args.push(v);
        }
        funcs::call(name, &args).map_err(|m| exec_err(m, pos))
    }

    fn operand(&self, o: &Operand, pos: Position) -> Result<Value, TemplateError> {
        Ok(match o {
            Operand::Str(s) => Value::Str(s.clone()),
            Operand::Int(i) => Value::Int(*i),
            Operand::Float(f) => Value::Float(*f),
            Operand::Bool(b) => Value::Bool(*b),
            Operand::Nil => Value::Nil,
            Operand::Dot => {
                return Err(TemplateError {
                    kind: TemplateErrorKind::Exec(
                        "\".\" alone is the whole data set; use a field such as .VmName".into(),
                    ),
                    position: Some(pos),
                });
            }
            Operand::Field(path, fpos) => {
                let Some((head, tail)) = path.split_first() else {
                    return Err(exec_err("empty field".into(), *fpos));
                };
                let value = self.data.get(head).ok_or_else(|| TemplateError {
                    kind: TemplateErrorKind::UnknownVariable {
                        name: head.clone(),
                        available: self.data.names(),
                    },
                    position: Some(*fpos),
                })?;
                if let Some(next) = tail.first() {
                    return Err(exec_err(
                        format!(".{head} is a {}, it has no field {next}", value.type_name()),
                        *fpos,
                    ));
                }
                value.clone()
            }
            Operand::Func(name, fpos) => self.call(name, *fpos, &[], None)?,
            Operand::Sub(p) => self.pipeline(p)?,
        })
    }
}
