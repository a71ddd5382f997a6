//! Where the server's log lines go and how they look: stderr, written by a thread of its own,
//! as text (colours only on a terminal) or JSON lines.
//!
//! Every answered request writes one line (target `schemata::request`; silence it with
//! `RUST_LOG=info,schemata::request=warn`). tracing's standard text formatter spent more on
//! that line than the whole get-by-id handler: each field goes through `core::fmt` with
//! Debug escaping, the timestamp is formatted digit by digit, and empty colour codes are drawn
//! even when colours are off. The request line is therefore written by [`Lean`], which gives
//! the same text for a fraction of the cost; every other line, and every line on a terminal,
//! is tracing's own.

use std::cell::RefCell;
use std::fmt;
use std::io::IsTerminal;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The target of the per-request line (`server::record`).
pub const REQUEST_TARGET: &str = "schemata::request";

/// Installs the global subscriber. The returned guard flushes queued lines when dropped: keep
/// it until the process ends.
pub fn init(format: &str) -> WorkerGuard {
    // rustls warns on every handshake from a client that sends an IP address as SNI (curl
    // and wrk asking https://127.0.0.1 do): noise, not a problem of the server.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,actix_server=warn,rustls::msgs::handshake=error".into());
    // A handler only formats its line and queues it; lines queued together go out in one
    // write. Not lossy: when the queue is full, handlers wait rather than drop audit lines.
    let (writer, flushed_at_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("schemata-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    if format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.event_format(Lean::default()).init();
    }
    flushed_at_exit
}

/// tracing's text format, with the request line written directly (same text).
#[derive(Default)]
pub struct Lean {
    standard: Format<Full>,
}

impl<S, N> FormatEvent<S, N> for Lean
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let plain = meta.target() == REQUEST_TARGET && !writer.has_ansi_escapes() && ctx.lookup_current().is_none();
        if !plain {
            return self.standard.format_event(ctx, writer, event);
        }
        write_timestamp(&mut writer, SystemTime::now())?;
        writer.write_str(level_column(meta.level()))?;
        writer.write_str(meta.target())?;
        writer.write_char(':')?;
        let mut fields = Fields { writer: &mut writer, result: Ok(()) };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// The level as tracing's text format pads it, with the spaces around it.
fn level_column(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => " ERROR ",
        Level::WARN => "  WARN ",
        Level::INFO => "  INFO ",
        Level::DEBUG => " DEBUG ",
        Level::TRACE => " TRACE ",
    }
}

/// Writes ` name=value` per field as tracing's default visitor does: the message bare,
/// strings quoted (escaped only when they hold something to escape), numbers as they are.
struct Fields<'a, 'w> {
    writer: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn name(&mut self, field: &Field) -> fmt::Result {
        self.writer.write_char(' ')?;
        if field.name() != "message" {
            let name = field.name();
            self.writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')?;
        }
        Ok(())
    }

    fn record(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.name(field).and_then(|_| value(self.writer));
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, |w| {
            let plain = value.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
            if plain {
                w.write_char('"')?;
                w.write_str(value)?;
                w.write_char('"')
            } else {
                write!(w, "{value:?}")
            }
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record(field, |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // Debug, as tracing's visitor: `1.0`, not `1`.
        self.record(field, |w| write!(w, "{value:?}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, |w| write!(w, "{value:?}"));
    }
}

thread_local! {
    /// The formatted date and time of the last whole second this thread logged in.
    static SECOND: RefCell<(u64, [u8; 19])> = const { RefCell::new((u64::MAX, [0; 19])) };
}

/// RFC 3339 in UTC with microseconds, as tracing's `SystemTime` writes it
/// (`2026-12-03T19:17:16.583077Z`). The date part is formatted once a second per thread.
fn write_timestamp(writer: &mut Writer<'_>, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != seconds {
            *cached = (seconds, date_time(seconds));
        }
        // Only ASCII digits and separators are ever written into the buffer.
        writer.write_str(std::str::from_utf8(&cached.1).map_err(|_| fmt::Error)?)
    })?;
    let mut fraction = *b".000000Z";
    let mut micros = since.subsec_micros();
    for digit in fraction[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    writer.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time in seconds (proleptic Gregorian calendar, UTC).
fn date_time(seconds: u64) -> [u8; 19] {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut out = [0u8; 19];
    let mut put = |at: usize, value: u64, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u64, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, rest / 3600, 2);
    put(14, rest / 60 % 60, 2);
    put(17, rest % 60, 2);
    for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        out[at] = separator;
    }
    out
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[test]
    fn dates_match_the_calendar() {
        let at = |s: u64| String::from_utf8(date_time(s).to_vec()).unwrap();
        assert_eq!(at(0), "1970-01-01T00:00:00");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59");
        assert_eq!(at(1_796_325_436), "2026-12-03T19:17:16");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00");
    }

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn lines(lean: bool, emit: impl Fn()) -> String {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt().with_writer(out.clone()).with_ansi(false);
        if lean {
            tracing::subscriber::with_default(builder.event_format(Lean::default()).finish(), emit);
        } else {
            tracing::subscriber::with_default(builder.finish(), emit);
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        // Timestamps differ between the two runs; everything after them must not.
        text.lines().map(|l| l.split_once(' ').map_or("", |(_, rest)| rest).to_string() + "\n").collect()
    }

    #[test]
    fn the_request_line_reads_as_the_standard_format_writes_it() {
        let emit = || {
            let path = "/subjects/a b\"\\\u{7}é/versions";
            tracing::info!(target: REQUEST_TARGET, method = "GET", route = %"/subjects/{subject}/versions",
                path, status = 200u16, principal = Some("alice"), duration_ms = 0.25f64, "request");
            tracing::info!(target: REQUEST_TARGET, method = "POST", path = "/", status = 404u16,
                principal = None::<&str>, ok = true, count = -3i64, seconds = 1.0f64, "request");
            tracing::warn!(target: "schemata::other", listen = "x", "something else {}", 1);
        };
        let (lean, standard) = (lines(true, emit), lines(false, emit));
        assert_eq!(lean, standard);
        assert!(lean.contains(r#"request method="GET" route=/subjects/{subject}/versions path="#), "{lean}");
    }

    #[test]
    fn timestamps_are_rfc3339_with_microseconds() {
        let mut text = String::new();
        let at = UNIX_EPOCH + Duration::from_micros(1_796_325_436_000_077);
        write_timestamp(&mut Writer::new(&mut text), at).unwrap();
        assert_eq!(text, "2026-12-03T19:17:16.000077Z");
    }
}
