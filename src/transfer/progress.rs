//! Progress of a long export or import on stderr: one line redrawn in place on a terminal, a
//! line per tenth of the work otherwise (logs, CI), and a summary with the rate at the end.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    started: Instant,
    drawn: Instant,
    terminal: bool,
}

impl Progress {
    pub fn new(what: &'static str, total: usize) -> Progress {
        let now = Instant::now();
        Progress { what, total, done: 0, started: now, drawn: now, terminal: std::io::stderr().is_terminal() }
    }

    pub fn tick(&mut self) {
        self.done += 1;
        if self.terminal {
            if self.drawn.elapsed() >= Duration::from_millis(100) || self.done == self.total {
                self.drawn = Instant::now();
                eprint!("\r{}", self.line());
                let _ = std::io::stderr().flush();
            }
        } else if self.total >= 10 && self.done.is_multiple_of(self.total / 10) {
            eprintln!("{}", self.line());
        }
    }

    pub fn done(&self) {
        if self.terminal {
            eprintln!();
        }
        eprintln!("{}: {} in {:.1} s", self.what, self.done, self.started.elapsed().as_secs_f64());
    }

    fn line(&self) -> String {
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        format!("{} {}/{} ({rate:.0}/s)", self.what, self.done, self.total)
    }
}
