//! XML for SOAP: a tiny request writer and a bounded streaming parser that
//! turns a response into a [`Node`] tree (local names only, `xsi:type`
//! kept), from which the typed results are read.
//!
//! The parser trusts nothing: depth, element count and total text are
//! capped, DOCTYPEs are refused, entities are limited to the predefined and
//! character references.
use std::fmt::Write as _;

use quick_xml::events::Event;

use crate::error::{Error, Result};

/// Deepest element nesting accepted in a response.
const MAX_DEPTH: usize = 96;
/// Most elements accepted in one response.
const MAX_NODES: usize = 4_000_000;

/// One element of a parsed response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Local name (namespace prefix removed).
    pub name: String,
    /// The `xsi:type` attribute (prefix removed), e.g. `ManagedObjectReference`.
    pub xsi_type: Option<String>,
    /// The `type` attribute (on managed object references).
    pub type_attr: Option<String>,
    /// Concatenated text content.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Node>,
}

impl Node {
    /// First child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Follow a path of child names (`"config/hardware/numCPU"`).
    pub fn path(&self, path: &str) -> Option<&Node> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |n, p| n.child(p))
    }

    /// The type of the value: `xsi:type`, else the `type` attribute.
    pub fn value_type(&self) -> Option<&str> {
        self.xsi_type.as_deref().or(self.type_attr.as_deref())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

fn start_node(e: &quick_xml::events::BytesStart<'_>) -> Result<Node> {
    let mut node = Node {
        name: local(e.local_name().as_ref()),
        ..Node::default()
    };
    for attr in e.attributes() {
        let attr = attr.map_err(|err| Error::protocol(format!("bad XML attribute: {err}")))?;
        let key = attr.key.as_ref();
        let value = attr
            .unescape_value()
            .map_err(|err| Error::protocol(format!("bad XML attribute value: {err}")))?;
        if key == b"xsi:type" || key.ends_with(b":type") {
            node.xsi_type = Some(local(value.as_bytes()));
        } else if key == b"type" {
            node.type_attr = Some(value.into_owned());
        }
    }
    Ok(node)
}

/// Parse a whole document into its root element.
pub fn parse(doc: &[u8]) -> Result<Node> {
    let mut reader = quick_xml::Reader::from_reader(doc);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut nodes = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| {
            Error::protocol(format!(
                "malformed XML at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        match ev {
            Event::Start(e) => {
                nodes += 1;
                if stack.len() > MAX_DEPTH || nodes > MAX_NODES {
                    return Err(Error::protocol(
                        "the XML answer is nested too deeply or has too many elements",
                    ));
                }
                stack.push(start_node(&e)?);
            }
            Event::Empty(e) => {
                nodes += 1;
                let node = start_node(&e)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(node);
                }
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(Error::protocol("unbalanced XML end tag"));
                }
                if let Some(node) = stack.pop()
                    && let Some(top) = stack.last_mut()
                {
                    top.children.push(node);
                }
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| Error::protocol(format!("bad XML text: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if let Some(c) = r
                    .resolve_char_ref()
                    .map_err(|e| Error::protocol(format!("bad XML character reference: {e}")))?
                {
                    c.to_string()
                } else {
                    let name = r
                        .decode()
                        .map_err(|e| Error::protocol(format!("bad XML entity: {e}")))?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| Error::protocol(format!("unknown XML entity &{name};")))?
                        .to_string()
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(Error::protocol("XML DOCTYPE is not accepted")),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if stack.len() != 1 {
        return Err(Error::protocol("the XML answer ends inside an element"));
    }
    stack
        .pop()
        .and_then(|mut root| root.children.pop())
        .ok_or_else(|| Error::protocol("empty XML answer"))
}

/// Escape text or an attribute value.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Builds the body of one SOAP request (`<Method xmlns="urn:vim25">...`).
#[derive(Debug)]
pub struct Body {
    buf: String,
    method: &'static str,
}

impl Body {
    /// Start a request for `method` on the managed object `this`.
    pub fn new(method: &'static str, this: &crate::MoRef) -> Self {
        let mut b = Body {
            buf: String::with_capacity(512),
            method,
        };
        let _ = write!(b.buf, "<{method} xmlns=\"urn:vim25\">");
        b.moref("_this", this);
        b
    }

    /// `<tag type="Kind">value</tag>`.
    pub fn moref(&mut self, tag: &str, r: &crate::MoRef) -> &mut Self {
        let _ = write!(
            self.buf,
            "<{tag} type=\"{}\">{}</{tag}>",
            escape(&r.kind),
            escape(&r.value)
        );
        self
    }

    /// `<tag>text</tag>`.
    pub fn text(&mut self, tag: &str, value: &str) -> &mut Self {
        let _ = write!(self.buf, "<{tag}>{}</{tag}>", escape(value));
        self
    }

    /// `<tag>value</tag>` for numbers and booleans.
    pub fn value(&mut self, tag: &str, value: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.buf, "<{tag}>{value}</{tag}>");
        self
    }

    /// `<tag>` or `<tag xsi:type="T">`.
    pub fn open(&mut self, tag: &str, xsi_type: Option<&str>) -> &mut Self {
        match xsi_type {
            Some(t) => {
                let _ = write!(self.buf, "<{tag} xsi:type=\"{t}\">");
            }
            None => {
                let _ = write!(self.buf, "<{tag}>");
            }
        }
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.buf, "</{tag}>");
        self
    }

    /// The method name.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The whole SOAP envelope.
    pub fn envelope(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
             <soapenv:Body>{}</{}></soapenv:Body></soapenv:Envelope>",
            self.buf, self.method
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_names_types_text_and_entities() {
        let doc = br#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="x" xmlns:xsi="y"><soapenv:Body>
<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><rootFolder type="Folder">group-d1</rootFolder>
<about><fullName>VMware &amp; co &#65;</fullName></about><val xsi:type="xsd:string">a</val><e/></returnval>
</RetrieveServiceContentResponse></soapenv:Body></soapenv:Envelope>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Envelope");
        let rv = root
            .path("Body/RetrieveServiceContentResponse/returnval")
            .unwrap();
        assert_eq!(
            rv.child("rootFolder").unwrap().type_attr.as_deref(),
            Some("Folder")
        );
        assert_eq!(rv.text_of("rootFolder"), Some("group-d1"));
        assert_eq!(rv.path("about/fullName").unwrap().text, "VMware & co A");
        assert_eq!(rv.child("val").unwrap().xsi_type.as_deref(), Some("string"));
        assert!(rv.child("e").is_some());
    }

    #[test]
    fn refuses_bad_documents() {
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<!DOCTYPE x [<!ENTITY e \"boom\">]><a>&e;</a>").is_err());
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn writer_escapes() {
        let this = crate::MoRef::new("SessionManager", "SessionManager");
        let mut b = Body::new("Login", &this);
        b.text("userName", "a<b>&\"").text("password", "p&");
        let env = b.envelope();
        assert!(
            env.contains("<userName>a&lt;b&gt;&amp;&quot;</userName>"),
            "{env}"
        );
        assert!(env.contains("<_this type=\"SessionManager\">SessionManager</_this>"));
        assert!(parse(env.as_bytes()).is_ok());
    }

    /// Mutated answers (bytes flipped, cut, duplicated) never panic.
    #[test]
    fn mutated_answers_do_not_panic() {
        let good: &[u8] = br#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="s" xmlns:xsi="i"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>name</name><val xsi:type="xsd:string">a &amp; b</val></propSet></objects><token>1</token></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>"#;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let mut doc = good.to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % doc.len();
                match next() % 4 {
                    0 => doc[i] = next() as u8,
                    1 => doc.truncate(i),
                    2 => {
                        let j = (next() as usize) % doc.len();
                        let (a, b) = (i.min(j), i.max(j));
                        let piece = doc[a..b].to_vec();
                        doc.splice(i..i, piece);
                    }
                    _ => {
                        doc.remove(i);
                    }
                }
                if doc.is_empty() {
                    break;
                }
            }
            if let Ok(root) = parse(&doc) {
                // Whatever parsed is a well-formed tree.
                assert!(!root.name.is_empty() || root.children.is_empty());
            }
        }
    }
}
