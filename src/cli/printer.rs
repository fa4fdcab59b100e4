//! The one place that writes human messages to stderr: errors, warnings, notes, with colour when
//! stderr is a terminal (or `--color always`), never when `NO_COLOR` is set. Data goes to stdout
//! through the commands, never here.

use std::io::{IsTerminal, Write};

/// `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    color: bool,
    /// Whether data on stdout may be coloured (`logs` prefixes): the same rule for stdout.
    stdout_color: bool,
    quiet: bool,
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const GREEN: &str = "\x1b[1;32m";
const RESET: &str = "\x1b[0m";

impl Printer {
    pub fn new(choice: ColorChoice, quiet: bool) -> Self {
        let decide = |terminal: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os(crate::env::NO_COLOR).is_none_or(|v| v.is_empty()) && terminal
            }
        };
        Self {
            color: decide(std::io::stderr().is_terminal()),
            stdout_color: decide(std::io::stdout().is_terminal()),
            quiet,
        }
    }

    /// Whether data written to stdout may carry colour (a terminal, no `NO_COLOR`, or
    /// `--color always`).
    pub fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    fn label(&self, style: &str, label: &str) -> String {
        if self.color {
            format!("{style}{label}{RESET}")
        } else {
            label.to_string()
        }
    }

    fn emit(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// `error: …` with its causes and hint. Always printed, even with `--quiet`.
    pub fn error(&self, message: &str, causes: &[String], hint: Option<&str>) {
        let mut text = format!("{}: {message}", self.label(RED, "error"));
        for c in causes {
            text.push_str(&format!("\n  caused by: {}", c.replace('\n', "\n  ")));
        }
        if let Some(h) = hint {
            text.push_str(&format!("\n{}: {h}", self.label(CYAN, "hint")));
        }
        self.emit(&text);
    }

    /// Free text for people (rendered NOTES.txt), suppressed by `--quiet`.
    pub fn text(&self, text: &str) {
        if !self.quiet {
            self.emit(text);
        }
    }

    pub fn warning(&self, message: &str) {
        if !self.quiet {
            self.emit(&format!("{}: {message}", self.label(YELLOW, "warning")));
        }
    }

    /// A status line (`Packaged redis 1.2.3`), suppressed by `--quiet`.
    pub fn status(&self, verb: &str, message: &str) {
        if !self.quiet {
            self.emit(&format!("{} {message}", self.label(GREEN, verb)));
        }
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal and not `--quiet`.
pub struct ProgressLine {
    label: String,
    enabled: bool,
    last_drawn: Option<std::time::Instant>,
}

impl Printer {
    pub fn progress(&self, label: &str) -> ProgressLine {
        ProgressLine {
            label: label.to_string(),
            enabled: !self.quiet && std::io::stderr().is_terminal(),
            last_drawn: None,
        }
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}

impl ProgressLine {
    /// Whether the line is drawn (a terminal, not `--quiet`).
    pub fn is_live(&self) -> bool {
        self.enabled
    }

    /// Draws free text (at most ~10 redraws a second), cut to 100 characters.
    pub fn message(&mut self, text: &str) {
        if !self.enabled
            || self
                .last_drawn
                .is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(100))
        {
            return;
        }
        self.last_drawn = Some(std::time::Instant::now());
        let cut: String = text.chars().take(100).collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{} {cut}\x1b[K", self.label);
        let _ = err.flush();
    }

    pub fn update(&mut self, done: u64, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        // At most ~20 redraws a second.
        if self
            .last_drawn
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(50))
            && total != Some(done)
        {
            return;
        }
        self.last_drawn = Some(std::time::Instant::now());
        let line = match total {
            Some(t) if t > 0 => {
                let width = 24;
                let filled = (done.min(t) * width / t) as usize;
                format!(
                    "\r{} [{}{}] {} / {}",
                    self.label,
                    "#".repeat(filled),
                    " ".repeat(width as usize - filled),
                    human(done),
                    human(t)
                )
            }
            _ => format!("\r{} {}", self.label, human(done)),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{line}\x1b[K");
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled && self.last_drawn.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
