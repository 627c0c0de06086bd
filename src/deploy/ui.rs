//! How the engine talks to a person: human-readable lines, colours and progress bars on a
//! terminal, prompts that never hang without one, and Ctrl-C as an event the engine handles
//! rather than a kill.
//!
//! Tests build a [`Console`] that records its output and answers prompts from a script.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};

use super::changes::Style;

/// Answers a prompt: `None` when there is no one to ask (stdin closed).
pub type Prompter = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the human-readable text goes and whether a person is there to answer.
pub struct Console {
    out: Box<dyn Write + Send>,
    style: Style,
    /// Draw progress bars (stderr is a terminal).
    progress: bool,
    /// `None`: not interactive; every prompt is a refusal.
    prompter: Option<Prompter>,
    interrupt: Interrupt,
}

/// The answer to a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// No terminal to ask on.
    NotInteractive,
    /// Ctrl-C while the prompt waited.
    Interrupted,
}

impl Console {
    /// The real terminal: text to stdout, or to stderr when stdout carries `--json`; prompts when
    /// stdin and stderr are terminals; Ctrl-C caught once this is built.
    pub fn terminal(json: bool) -> Console {
        let text_is_tty = if json {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let color = text_is_tty && std::env::var_os("NO_COLOR").is_none();
        let out: Box<dyn Write + Send> = if json {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        };
        Console {
            out,
            style: if color { Style::Color } else { Style::Plain },
            progress: std::io::stderr().is_terminal(),
            prompter: interactive.then(|| Arc::new(read_tty_answer) as Prompter),
            interrupt: Interrupt::ctrl_c(),
        }
    }

    /// A console for tests: output into a shared buffer, prompts answered by `prompter` (or not
    /// interactive when `None`), interrupts from the returned handle.
    pub fn capture(prompter: Option<Prompter>) -> (Console, Arc<Mutex<Vec<u8>>>, InterruptHandle) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (handle, interrupt) = Interrupt::manual();
        let console = Console {
            out: Box::new(SharedBuf(buf.clone())),
            style: Style::Plain,
            progress: false,
            prompter,
            interrupt,
        };
        (console, buf, handle)
    }

    /// Plain or coloured.
    pub fn style(&self) -> Style {
        self.style
    }

    /// True when progress bars may be drawn.
    pub fn progress_bars(&self) -> bool {
        self.progress
    }

    /// True when a person can answer prompts.
    pub fn interactive(&self) -> bool {
        self.prompter.is_some()
    }

    /// One line of human text.
    pub fn line(&mut self, text: impl AsRef<str>) {
        // Nothing useful can be done if the terminal is gone; the result still goes to the exit
        // code and (with --json) stdout.
        let _ = writeln!(self.out, "{}", text.as_ref());
        let _ = self.out.flush();
    }

    /// A warning line (yellow on a terminal).
    pub fn warn(&mut self, text: impl AsRef<str>) {
        let t = super::changes::paint(self.style, "33", text.as_ref());
        self.line(t);
    }

    /// A danger line (bold red on a terminal).
    pub fn danger(&mut self, text: impl AsRef<str>) {
        let t = super::changes::paint(self.style, "1;31", text.as_ref());
        self.line(t);
    }

    /// Asks a question; `expected` is the answer that means yes (`y` or a stack name, compared
    /// case-sensitively for names, case-insensitively for `y`/`yes`). Ctrl-C during the prompt is
    /// a no.
    pub async fn ask(&mut self, question: &str, expected: &str) -> Answer {
        let Some(prompter) = self.prompter.clone() else {
            return Answer::NotInteractive;
        };
        let (tx, rx) = oneshot::channel();
        let q = question.to_owned();
        // A plain thread, not the runtime's blocking pool: if Ctrl-C abandons the read, the
        // process can still exit without waiting for stdin.
        std::thread::spawn(move || {
            let _ = tx.send(prompter(&q));
        });
        let answer = tokio::select! {
            a = rx => a.ok().flatten(),
            _ = self.interrupt.triggered() => return Answer::Interrupted,
        };
        let Some(answer) = answer else {
            return Answer::NotInteractive;
        };
        let a = answer.trim();
        let yes = if expected == "y" {
            a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes")
        } else {
            a == expected
        };
        if yes { Answer::Yes } else { Answer::No }
    }

    /// The Ctrl-C signal, for `select!` in wait loops.
    pub fn interrupt(&mut self) -> &mut Interrupt {
        &mut self.interrupt
    }
}

/// Prints the question on stderr and reads one line from stdin.
fn read_tty_answer(question: &str) -> Option<String> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} ");
    let _ = err.flush();
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut b) => b.extend_from_slice(data),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(data),
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ctrl-C, as a level that stays set once triggered.
#[derive(Debug, Clone)]
pub struct Interrupt(watch::Receiver<bool>);

/// Triggers an [`Interrupt`] (tests).
#[derive(Debug, Clone)]
pub struct InterruptHandle(Arc<watch::Sender<bool>>);

impl InterruptHandle {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Interrupt {
    /// Listens for Ctrl-C from now on (the process no longer dies on it: the engine decides).
    /// Needs a running tokio runtime; outside one it never triggers.
    pub fn ctrl_c() -> Interrupt {
        let (tx, rx) = watch::channel(false);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    tx.send_replace(true);
                    // Keep the sender alive so the level stays readable.
                    std::future::pending::<()>().await;
                }
            });
        }
        Interrupt(rx)
    }

    /// An interrupt triggered by hand.
    pub fn manual() -> (InterruptHandle, Interrupt) {
        let (tx, rx) = watch::channel(false);
        (InterruptHandle(Arc::new(tx)), Interrupt(rx))
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when triggered; never completes if the trigger is gone untriggered.
    pub async fn triggered(&mut self) {
        if self.0.wait_for(|v| *v).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
