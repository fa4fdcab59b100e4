//! Text tables for read commands: columns sized to their content, so long object names never
//! push the next column out of line.

use std::io::Write;

/// A table of rows; every column but the last is padded to its widest cell.
#[derive(Debug, Default)]
pub struct Table {
    indent: usize,
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub fn new(header: &[&str]) -> Table {
        Table {
            indent: 0,
            header: Some(header.iter().map(|s| s.to_string()).collect()),
            rows: Vec::new(),
        }
    }

    /// A table without a header row.
    pub fn headless() -> Table {
        Table::default()
    }

    /// Indents every line by `n` spaces.
    pub fn indent(mut self, n: usize) -> Table {
        self.indent = n;
        self
    }

    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, each ending in a newline; trailing spaces trimmed.
    pub fn render(&self) -> String {
        let all: Vec<&Vec<String>> = self.header.iter().chain(self.rows.iter()).collect();
        let columns = all.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in &all {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in all {
            let mut line = " ".repeat(self.indent);
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                    line.push_str(&" ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Writes [`Table::render`].
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(self.render().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_longest_cell() {
        let mut t = Table::new(&["OBJECT", "STATE", "SUMMARY"]).indent(2);
        t.row(["Deployment/web", "ready", "2/2 ready"]);
        t.row([
            "StatefulSet/a-very-long-name-that-would-overflow-a-fixed-column-of-44",
            "progressing",
            "0/1 ready",
        ]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        let col = |l: &str, word: &str| l.find(word).unwrap();
        assert_eq!(col(lines[0], "STATE"), col(lines[1], "ready"));
        assert_eq!(col(lines[0], "STATE"), col(lines[2], "progressing"));
        assert_eq!(col(lines[0], "SUMMARY"), col(lines[2], "0/1 ready"));
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("  ") && !l.ends_with(' '))
        );
    }
}
