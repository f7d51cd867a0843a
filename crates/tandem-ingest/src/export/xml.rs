//! A small indenting XML writer that escapes everything it is given.
//!
//! Entity values may hold any character; XML 1.0 forbids most control characters even as
//! character references, so those become U+FFFD. Line breaks and tabs inside attribute values
//! are written as character references, because parsers would otherwise turn them into spaces.

use std::io::{self, Write};

pub(super) struct XmlWriter<W: Write> {
    out: io::BufWriter<W>,
    depth: usize,
    scratch: String,
}

/// True for the characters XML 1.0 allows in a document.
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `text` escaped for an attribute value (`in_attribute`) or for element content.
pub(super) fn escape_into(out: &mut String, text: &str, in_attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            // Parsers turn a bare CR into a line feed, in content as in attributes.
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

impl<W: Write> XmlWriter<W> {
    pub(super) fn new(out: W) -> io::Result<XmlWriter<W>> {
        let mut out = io::BufWriter::new(out);
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
        Ok(XmlWriter {
            out,
            depth: 0,
            scratch: String::new(),
        })
    }

    fn tag(&mut self, name: &str, attributes: &[(&str, &str)], close: &str) -> io::Result<()> {
        self.scratch.clear();
        for _ in 0..self.depth {
            self.scratch.push_str("  ");
        }
        self.scratch.push('<');
        self.scratch.push_str(name);
        for (key, value) in attributes {
            self.scratch.push(' ');
            self.scratch.push_str(key);
            self.scratch.push_str("=\"");
            escape_into(&mut self.scratch, value, true);
            self.scratch.push('"');
        }
        self.scratch.push_str(close);
        self.out.write_all(self.scratch.as_bytes())
    }

    /// `<name …>` on its own line; the element stays open until [`XmlWriter::end`].
    pub(super) fn start(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        self.tag(name, attributes, ">\n")?;
        self.depth += 1;
        Ok(())
    }

    /// `<name …/>`
    pub(super) fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        self.tag(name, attributes, "/>\n")
    }

    /// `<name …>text</name>`
    pub(super) fn text(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> io::Result<()> {
        self.tag(name, attributes, ">")?;
        self.scratch.clear();
        escape_into(&mut self.scratch, text, false);
        self.scratch.push_str("</");
        self.scratch.push_str(name);
        self.scratch.push_str(">\n");
        self.out.write_all(self.scratch.as_bytes())
    }

    pub(super) fn end(&mut self, name: &str) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        self.scratch.clear();
        for _ in 0..self.depth {
            self.scratch.push_str("  ");
        }
        self.scratch.push_str("</");
        self.scratch.push_str(name);
        self.scratch.push_str(">\n");
        self.out.write_all(self.scratch.as_bytes())
    }

    pub(super) fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_and_drops_what_xml_forbids() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c\"\n\t\r\u{1}\u{FFFE}é", true);
        assert_eq!(
            out,
            "a&lt;b&gt;&amp;&quot;c&quot;&#10;&#9;&#13;\u{FFFD}\u{FFFD}é"
        );
        out.clear();
        escape_into(&mut out, "\"line\"\nnext\r", false);
        assert_eq!(out, "\"line\"\nnext&#13;");
    }
}
