//! The engine's XML answers as an owned tree ([`Node`]), parsed with
//! roxmltree (no DTDs, no external entities). Answers are size-capped by
//! the transport before they get here.
use crate::error::{Error, Result};

/// An XML element: name, attributes, text and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// The element's own text, trimmed.
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// Parse a document; `what` names it in errors.
    pub fn parse(xml: &str, what: &str) -> Result<Node> {
        let doc = roxmltree::Document::parse(xml)
            .map_err(|e| Error::protocol(format!("{what}: the answer is not XML: {e}")))?;
        Ok(Node::from_element(doc.root_element()))
    }

    fn from_element(e: roxmltree::Node<'_, '_>) -> Node {
        let mut text = String::new();
        let mut children = Vec::new();
        for c in e.children() {
            if c.is_element() {
                children.push(Node::from_element(c));
            } else if c.is_text() {
                text.push_str(c.text().unwrap_or_default());
            }
        }
        Node {
            name: e.tag_name().name().to_owned(),
            attrs: e
                .attributes()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect(),
            text: text.trim().to_owned(),
            children,
        }
    }

    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child element named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at `path` (child names) below this one.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }

    /// The text of the element at `path`, when present and not empty.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)
            .map(|n| n.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// An attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `id` attribute, or empty.
    pub fn id(&self) -> &str {
        self.attr("id").unwrap_or_default()
    }

    /// The `id` of the child element at `path` (a link like `<cluster id=".."/>`).
    pub fn id_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)?.attr("id").filter(|s| !s.is_empty())
    }

    /// The number at `path`, or an error naming it when it is present but
    /// not a number.
    pub fn u64_at(&self, path: &[&str]) -> Result<Option<u64>> {
        match self.text_at(path) {
            None => Ok(None),
            Some(t) => t.parse().map(Some).map_err(|_| {
                Error::protocol(format!(
                    "{} {}: {} is {t:?}, not a number",
                    self.name,
                    self.id(),
                    path.join("/")
                ))
            }),
        }
    }

    /// The boolean at `path` (`true`/`false`), `None` when absent.
    pub fn bool_at(&self, path: &[&str]) -> Option<bool> {
        self.text_at(path).map(|t| t.eq_ignore_ascii_case("true"))
    }
}

/// Escape text for an XML element or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_engine_objects() {
        let xml = r#"<?xml version="1.0"?><vms><vm href="/ovirt-engine/api/vms/1" id="1">
          <name>vm1</name><memory>2147483648</memory>
          <cpu><topology><cores>2</cores><sockets>1</sockets></topology></cpu>
          <cluster href="/c/2" id="2"/></vm></vms>"#;
        let n = Node::parse(xml, "GET vms").unwrap();
        let vm = n.all("vm").next().unwrap();
        assert_eq!(vm.id(), "1");
        assert_eq!(vm.text_at(&["name"]), Some("vm1"));
        assert_eq!(vm.u64_at(&["memory"]).unwrap(), Some(2 << 30));
        assert_eq!(vm.u64_at(&["cpu", "topology", "cores"]).unwrap(), Some(2));
        assert_eq!(vm.id_at(&["cluster"]), Some("2"));
        assert_eq!(vm.text_at(&["missing"]), None);
    }

    #[test]
    fn bad_documents_and_numbers_are_named() {
        let err = Node::parse("<vm><name>x</vm>", "GET vms/1").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("GET vms/1: the answer is not XML"),
            "{err}"
        );
        let n = Node::parse(r#"<vm id="7"><memory>lots</memory></vm>"#, "x").unwrap();
        let err = n.u64_at(&["memory"]).unwrap_err();
        assert!(
            err.to_string().contains("vm 7: memory is \"lots\""),
            "{err}"
        );
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
