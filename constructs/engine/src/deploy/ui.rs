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
    /// The person agreed.
    Yes,
    /// The person declined (or typed something else).
    No,
    /// No terminal to ask on.
    NotInteractive,
    /// Ctrl-C while the prompt waited.
    Interrupted,
}

impl Console {
    /// The real terminal: text to stdout, or to stderr when stdout carries `--json`; prompts when
    /// stdin and stderr are terminals; Ctrl-C, SIGTERM and SIGHUP caught once this is built.
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
            interrupt: Interrupt::signals(),
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

/// Ctrl-C, SIGTERM or SIGHUP, as a level that stays set once triggered. CI systems cancel a job
/// with SIGTERM and a closed SSH session sends SIGHUP: all three mean "stop", and none of them may
/// end the process before the engine has said what goes on in CloudFormation.
#[derive(Debug, Clone)]
pub struct Interrupt(watch::Receiver<Option<&'static str>>);

/// Triggers an [`Interrupt`] (tests).
#[derive(Debug, Clone)]
pub struct InterruptHandle(Arc<watch::Sender<Option<&'static str>>>);

impl InterruptHandle {
    /// Acts as if Ctrl-C had been pressed: the engine sees it at its next check.
    pub fn trigger(&self) {
        self.0.send_replace(Some("Ctrl-C"));
    }
}

impl Interrupt {
    /// Listens for Ctrl-C (SIGINT), SIGTERM and SIGHUP from now on: the process no longer dies on
    /// them, the engine decides. A second signal ends the process at once (exit 130), for when
    /// the first one is not acted on fast enough. Needs a running tokio runtime; outside one it
    /// never triggers.
    pub fn signals() -> Interrupt {
        let (tx, rx) = watch::channel(None);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            // Installed here, synchronously, so a signal that comes right after this returns is
            // already ours.
            let Some(mut signals) = Signals::install() else {
                return Interrupt(rx);
            };
            rt.spawn(async move {
                let first = signals.next().await;
                tx.send_replace(Some(first));
                let second = signals.next().await;
                eprintln!("{second} again: exiting at once");
                std::process::exit(i32::from(crate::exit::INTERRUPTED));
            });
        }
        Interrupt(rx)
    }

    /// The same as [`Interrupt::signals`] (the name it had when only Ctrl-C was caught).
    pub fn ctrl_c() -> Interrupt {
        Interrupt::signals()
    }

    /// An interrupt triggered by hand.
    pub fn manual() -> (InterruptHandle, Interrupt) {
        let (tx, rx) = watch::channel(None);
        (InterruptHandle(Arc::new(tx)), Interrupt(rx))
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// What triggered it (`Ctrl-C`, `SIGTERM`, `SIGHUP`), once triggered.
    pub fn signal(&self) -> Option<&'static str> {
        *self.0.borrow()
    }

    /// Completes when triggered; never completes if the trigger is gone untriggered.
    pub async fn triggered(&mut self) {
        if self.0.wait_for(|v| v.is_some()).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `fut` unless the interrupt comes first (or came already): `None` when interrupted,
    /// and `fut` is dropped, which cancels an AWS request in flight.
    pub async fn guard<F: std::future::Future>(&mut self, fut: F) -> Option<F::Output> {
        if self.is_triggered() {
            return None;
        }
        tokio::select! {
            biased;
            _ = self.triggered() => None,
            out = fut => Some(out),
        }
    }
}

/// The process's Ctrl-C, SIGTERM and SIGHUP handlers (installed on creation).
#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    /// `None` when a handler cannot be installed.
    fn install() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
        })
    }

    /// The next signal, by name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "Ctrl-C",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

/// Ctrl-C only where there are no Unix signals.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Option<Signals> {
        Some(Signals)
    }

    async fn next(&mut self) -> &'static str {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        }
    }
}
