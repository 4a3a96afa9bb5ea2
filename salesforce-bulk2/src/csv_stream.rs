//! Incremental CSV parsing of response bodies: chunks go in as they arrive, records
//! come out as soon as they are complete. Nothing but the record being parsed is held,
//! so a page of any size takes constant memory. Bodies that are gzip without saying so
//! are recognised by their magic bytes.
//!
//! Records are read by a fast path made for what Salesforce writes (every value quoted,
//! null as nothing, `""` inside quotes, LF or CRLF line ends), which finds quotes with
//! `memchr` and hands each field on where it is in the body (a field with a `""` escape
//! is copied once, unescaped); it is about 2.5 times as fast as `csv-core`'s
//! byte-at-a-time state machine on such pages. A record the fast path does
//! not fully understand (a quote inside an unquoted field, text after a closing quote,
//! an unterminated quote at the end) hands the rest of the body to `csv-core`, the csv
//! crate's parser, so every input reads exactly as `csv-core` reads it.

use std::io::Write as _;

use csv_core::ReadRecordResult;
use flate2::write::GzDecoder;

/// A field's bytes in its record's bytes: start and end.
pub(crate) type Span = (usize, usize);

/// What a parsed record is handed to: the record's bytes and each field's span in them.
pub(crate) type OnRecord<'a, E> = dyn FnMut(&[u8], &[Span]) -> Result<(), E> + 'a;

/// A push parser of CSV records.
///
/// csv-core skips blank lines. In a result of one column a blank line is a row whose
/// value is null (Salesforce writes null as nothing and quotes every other value), so
/// once the header turns out to have a single column, blank lines are found here and
/// handed on as records of one empty cell.
pub(crate) struct CsvFeeder {
    reader: csv_core::Reader,
    delimiter: u8,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The fields of the record handed on.
    spans: Vec<Span>,
    nout: usize,
    nend: usize,
    done: bool,
    /// Records parsed so far (the header included).
    records: u64,
    /// Where the bytes are, once blank lines are rows (a one-column header).
    lines: Option<LineState>,
    /// Whether records still go through the fast path (until the first record it
    /// leaves to `csv-core`, or a one-column header).
    fast: bool,
    /// The start of a record the fast path has not seen the end of yet.
    carry: Vec<u8>,
}

/// What the fast path found at the start of its input.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// A record, its fields' spans now in `spans`, ending after this many bytes.
    Record(usize),
    /// No complete record yet (blank lines may have been skipped).
    Incomplete,
    /// Input the fast path leaves to `csv-core`, from the start.
    Irregular,
    /// A field with an escaped quote: read again, copying.
    Escaped,
}

/// Reads one record from the start of `buf` the way `csv-core` reads it: each
/// field's span in `buf` (`copy` false), or its bytes copied into `out` and its span
/// there (`copy` true, which undoes `""` escapes; without `copy` a field with one is
/// `Escaped`). `Irregular` where reading as `csv-core` does is not certain. Leading
/// `\r` and `\n` are skipped, as `csv-core` skips blank lines. `eof`: nothing follows
/// `buf`.
fn scan(
    buf: &[u8],
    delimiter: u8,
    eof: bool,
    copy: bool,
    out: &mut Vec<u8>,
    spans: &mut Vec<Span>,
) -> Scan {
    let mut pos = 0;
    while pos < buf.len() && matches!(buf[pos], b'\r' | b'\n') {
        pos += 1;
    }
    if pos == buf.len() {
        // Nothing but blank lines: no record, at the end of the body either.
        return Scan::Incomplete;
    }
    out.clear();
    spans.clear();
    loop {
        if buf.get(pos) == Some(&b'"') {
            let mut from = pos + 1;
            let start = if copy { out.len() } else { from };
            loop {
                let Some(i) = memchr::memchr(b'"', &buf[from..]) else {
                    // An unterminated quote: more input, or csv-core's reading of it.
                    return if eof {
                        Scan::Irregular
                    } else {
                        Scan::Incomplete
                    };
                };
                let quote = from + i;
                match buf.get(quote + 1) {
                    Some(b'"') if !copy => return Scan::Escaped,
                    Some(b'"') => {
                        out.extend_from_slice(&buf[from..=quote]);
                        from = quote + 2;
                    }
                    None if !eof => return Scan::Incomplete,
                    _ => {
                        if copy {
                            out.extend_from_slice(&buf[from..quote]);
                            spans.push((start, out.len()));
                        } else {
                            spans.push((start, quote));
                        }
                        pos = quote + 1;
                        break;
                    }
                }
            }
        } else {
            let rest = &buf[pos..];
            let len = match memchr::memchr3(delimiter, b'\n', b'\r', rest) {
                Some(i) => i,
                None if eof => rest.len(),
                None => return Scan::Incomplete,
            };
            let field = &rest[..len];
            if memchr::memchr(b'"', field).is_some() {
                return Scan::Irregular;
            }
            if copy {
                let start = out.len();
                out.extend_from_slice(field);
                spans.push((start, out.len()));
            } else {
                spans.push((pos, pos + len));
            }
            pos += len;
        }
        match buf.get(pos) {
            None if eof => return Scan::Record(pos),
            None => return Scan::Incomplete,
            Some(b'\n' | b'\r') => return Scan::Record(pos + 1),
            Some(&b) if b == delimiter => pos += 1,
            Some(_) => return Scan::Irregular,
        }
    }
}

/// Where a record read by [`scan`] is: in the scanned bytes, or copied into `out`.
#[derive(Clone, Copy)]
enum Read {
    InPlace,
    Copied,
}

/// [`scan`] without copying, and again copying for a record with an escaped quote.
fn scan_record(
    buf: &[u8],
    delimiter: u8,
    eof: bool,
    out: &mut Vec<u8>,
    spans: &mut Vec<Span>,
) -> (Scan, Read) {
    match scan(buf, delimiter, eof, false, out, spans) {
        Scan::Escaped => match scan(buf, delimiter, eof, true, out, spans) {
            // Copying undoes every escape: this cannot come twice.
            Scan::Escaped => (Scan::Irregular, Read::Copied),
            copied => (copied, Read::Copied),
        },
        other => (other, Read::InPlace),
    }
}

/// Enough of the CSV grammar to tell a blank line: quoting and line starts.
#[derive(Clone, Copy, Debug)]
struct LineState {
    in_quotes: bool,
    line_start: bool,
    after_cr: bool,
}

impl CsvFeeder {
    /// A parser for `delimiter`; `"` quotes, doubled quotes escape; LF, CR and CRLF
    /// all end records.
    pub(crate) fn new(delimiter: u8) -> Self {
        Self {
            reader: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            delimiter,
            out: vec![0; 8 * 1024],
            ends: vec![0; 64],
            spans: Vec::with_capacity(64),
            nout: 0,
            nend: 0,
            done: false,
            records: 0,
            lines: None,
            fast: true,
            carry: Vec::new(),
        }
    }

    /// A parser that reads every record with `csv-core`: what the fast path must match.
    #[cfg(test)]
    fn csv_core_only(delimiter: u8) -> Self {
        Self {
            fast: false,
            ..Self::new(delimiter)
        }
    }

    /// Parses `input`, calling `on_record(bytes, spans)` for every complete record (each
    /// field is `bytes[start..end]`). An empty `input` means the end of the body.
    pub(crate) fn feed<E>(
        &mut self,
        input: &[u8],
        on_record: &mut OnRecord<'_, E>,
    ) -> Result<(), E> {
        if self.fast {
            return self.feed_fast(input, on_record);
        }
        let Some(mut state) = self.lines else {
            return self.feed_records(input, on_record);
        };
        if input.is_empty() {
            return self.feed_records(input, on_record);
        }
        // Cut the input at blank lines: csv-core parses what is between them, and each
        // blank line is a record of one empty cell, in order.
        let mut start = 0;
        for (i, &b) in input.iter().enumerate() {
            if b == b'"' {
                state.in_quotes = !state.in_quotes;
                state.line_start = false;
                state.after_cr = false;
            } else if state.in_quotes {
            } else if b == b'\n' || b == b'\r' {
                let second_of_crlf = b == b'\n' && state.after_cr;
                if state.line_start && !second_of_crlf {
                    if start < i {
                        self.feed_records(&input[start..i], on_record)?;
                    }
                    start = i + 1;
                    self.records += 1;
                    on_record(b"", &[(0, 0)])?;
                }
                state.line_start = true;
                state.after_cr = b == b'\r';
            } else {
                state.line_start = false;
                state.after_cr = false;
            }
        }
        self.lines = Some(state);
        if start < input.len() {
            self.feed_records(&input[start..], on_record)?;
        }
        Ok(())
    }

    /// The fast path: records are read from `input` directly, but for one that
    /// straddles two inputs, which is completed in `carry`.
    fn feed_fast<E>(&mut self, input: &[u8], on_record: &mut OnRecord<'_, E>) -> Result<(), E> {
        let eof = input.is_empty();
        let mut at = 0;
        if !self.carry.is_empty() || eof {
            // Complete the carried record with more of the input each round, at least
            // as much as is carried: a long record is scanned a bounded number of times.
            loop {
                let take = self.carry.len().max(1024).min(input.len() - at);
                if take == 0 && !eof {
                    return Ok(());
                }
                self.carry.extend_from_slice(&input[at..at + take]);
                at += take;
                let carry = std::mem::take(&mut self.carry);
                let (scanned, read) =
                    scan_record(&carry, self.delimiter, eof, &mut self.out, &mut self.spans);
                match scanned {
                    Scan::Record(n) => {
                        // What follows the record came from `input`: read it there.
                        let rest = carry.len() - n;
                        let rest_from_carry = rest.saturating_sub(take);
                        at -= rest - rest_from_carry;
                        if rest_from_carry > 0 {
                            // Only at the end of the body, where nothing is taken.
                            self.carry = carry[n..n + rest_from_carry].to_vec();
                        }
                        let cr = n > 0 && carry[n - 1] == b'\r';
                        if !self.emit(&carry[..n], read, cr, on_record)? {
                            let mut rest = self.carry.split_off(0);
                            rest.extend_from_slice(&input[at..]);
                            return self.after_fast(&rest, eof, on_record);
                        }
                        if self.carry.is_empty() {
                            break;
                        }
                    }
                    Scan::Incomplete if eof => return Ok(()),
                    Scan::Incomplete => self.carry = carry,
                    Scan::Irregular | Scan::Escaped => {
                        let mut rest = carry;
                        rest.extend_from_slice(&input[at..]);
                        return self.after_fast(&rest, eof, on_record);
                    }
                }
            }
        }
        while at < input.len() {
            let (scanned, read) = scan_record(
                &input[at..],
                self.delimiter,
                false,
                &mut self.out,
                &mut self.spans,
            );
            match scanned {
                Scan::Record(n) => {
                    let record = &input[at..at + n];
                    at += n;
                    if !self.emit(record, read, input[at - 1] == b'\r', on_record)? {
                        return self.after_fast(&input[at..], eof, on_record);
                    }
                }
                Scan::Incomplete => {
                    self.carry.extend_from_slice(&input[at..]);
                    return Ok(());
                }
                Scan::Irregular | Scan::Escaped => {
                    return self.after_fast(&input[at..], eof, on_record);
                }
            }
        }
        Ok(())
    }

    /// Hands the record the fast path read on; `false` when the fast path ends here
    /// (a one-column header: blank lines become rows). `record`: the bytes scanned,
    /// which hold the fields unless they were copied into `out`. `ended_by_cr`: the
    /// record's last byte was a `\r`.
    fn emit<E>(
        &mut self,
        record: &[u8],
        read: Read,
        ended_by_cr: bool,
        on_record: &mut OnRecord<'_, E>,
    ) -> Result<bool, E> {
        self.records += 1;
        let bytes = match read {
            Read::InPlace => record,
            Read::Copied => &self.out[..],
        };
        on_record(bytes, &self.spans)?;
        if self.records == 1 && self.spans.len() == 1 {
            self.fast = false;
            // The header ended at a line-ending byte; blank lines count from there.
            self.lines = Some(LineState {
                in_quotes: false,
                line_start: true,
                after_cr: ended_by_cr,
            });
            return Ok(false);
        }
        Ok(true)
    }

    /// Reads `rest` (and the end of the body, at `eof`) with `csv-core`, from a record's
    /// start: the fast path is done.
    fn after_fast<E>(
        &mut self,
        rest: &[u8],
        eof: bool,
        on_record: &mut OnRecord<'_, E>,
    ) -> Result<(), E> {
        self.fast = false;
        self.out.resize(self.out.len().max(8 * 1024), 0);
        if !rest.is_empty() {
            self.feed(rest, on_record)?;
        }
        if eof {
            self.feed(&[], on_record)?;
        }
        Ok(())
    }

    /// Parses `input` with csv-core (blank lines skipped).
    fn feed_records<E>(
        &mut self,
        mut input: &[u8],
        on_record: &mut OnRecord<'_, E>,
    ) -> Result<(), E> {
        if self.done {
            return Ok(());
        }
        let eof = input.is_empty();
        loop {
            let consumed_before = input;
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.out[self.nout..],
                &mut self.ends[self.nend..],
            );
            input = &input[nin..];
            self.nout += nout;
            self.nend += nend;
            match res {
                ReadRecordResult::InputEmpty => {
                    if !eof && input.is_empty() {
                        return Ok(());
                    }
                }
                ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                ReadRecordResult::Record => {
                    self.spans.clear();
                    let mut start = 0;
                    for &end in &self.ends[..self.nend] {
                        self.spans.push((start, end));
                        start = end;
                    }
                    let r = on_record(&self.out[..self.nout], &self.spans);
                    self.records += 1;
                    let one_column_header = self.records == 1 && self.nend == 1;
                    self.nout = 0;
                    self.nend = 0;
                    r?;
                    if one_column_header && !eof && self.lines.is_none() {
                        // csv-core ended the header at its first line-ending byte: the
                        // rest of the input starts right after it.
                        let ended_by_cr = nin > 0 && consumed_before.get(nin - 1) == Some(&b'\r');
                        self.lines = Some(LineState {
                            in_quotes: false,
                            line_start: true,
                            after_cr: ended_by_cr,
                        });
                        return if input.is_empty() {
                            Ok(())
                        } else {
                            self.feed(input, on_record)
                        };
                    }
                    // An empty input would mean the end of the body to csv-core.
                    if !eof && input.is_empty() {
                        return Ok(());
                    }
                }
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(());
                }
            }
        }
    }
}

/// Splits a parsed record into `&str` cells; `false` when a cell is not UTF-8.
///
/// The record is checked as UTF-8 once, then cut at its fields' spans; a cut that falls
/// inside a character (two cells that are only valid joined) fails too.
pub(crate) fn cells<'a>(bytes: &'a [u8], spans: &[Span], out: &mut Vec<&'a str>) -> bool {
    out.clear();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    for &(start, end) in spans {
        match text.get(start..end) {
            Some(s) => out.push(s),
            None => return false,
        }
    }
    true
}

/// Undoes gzip when a body is compressed without a `Content-Encoding` header (reqwest
/// already decodes bodies that say they are).
pub(crate) enum Decoder {
    /// Not known yet: waiting for the first two bytes.
    Sniffing(Vec<u8>),
    /// Plain.
    Plain,
    /// Gzip.
    Gzip(Box<GzDecoder<Vec<u8>>>),
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Self::Sniffing(Vec::new())
    }

    /// Decodes `chunk`, handing the plain bytes to `f`.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        f: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        if let Self::Sniffing(buf) = self {
            buf.extend_from_slice(chunk);
            if buf.len() < 2 {
                return Ok(());
            }
            let pending = std::mem::take(buf);
            *self = if pending.starts_with(&[0x1f, 0x8b]) {
                Self::Gzip(Box::new(GzDecoder::new(Vec::new())))
            } else {
                Self::Plain
            };
            return self.push(&pending, f);
        }
        match self {
            Self::Plain => f(chunk),
            Self::Gzip(d) => {
                d.write_all(chunk).map_err(|e| format!("gzip: {e}"))?;
                let out = std::mem::take(d.get_mut());
                if out.is_empty() { Ok(()) } else { f(&out) }
            }
            Self::Sniffing(_) => Ok(()),
        }
    }

    /// Ends the body, handing any remaining plain bytes to `f`.
    pub(crate) fn finish(
        &mut self,
        f: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        match std::mem::replace(self, Self::Plain) {
            Self::Sniffing(buf) => {
                if buf.is_empty() {
                    Ok(())
                } else {
                    f(&buf)
                }
            }
            Self::Plain => Ok(()),
            Self::Gzip(d) => {
                let out = d.finish().map_err(|e| format!("gzip body cut off: {e}"))?;
                if out.is_empty() { Ok(()) } else { f(&out) }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn parse_in_chunks(input: &[u8], chunk: usize, delimiter: u8) -> Vec<Vec<String>> {
        let mut feeder = CsvFeeder::new(delimiter);
        let mut rows = Vec::new();
        let mut on = |b: &[u8], e: &[Span]| -> Result<(), ()> {
            let mut v = Vec::new();
            assert!(cells(b, e, &mut v));
            rows.push(v.iter().map(|s| s.to_string()).collect());
            Ok(())
        };
        for c in input.chunks(chunk.max(1)) {
            feeder.feed(c, &mut on).unwrap();
        }
        feeder.feed(&[], &mut on).unwrap();
        rows
    }

    /// Every record as its fields' bytes, fed in chunks cut at `cuts`.
    fn records_of(feeder: &mut CsvFeeder, input: &[u8], cuts: &[usize]) -> Vec<Vec<Vec<u8>>> {
        let mut rows = Vec::new();
        let mut on = |b: &[u8], e: &[Span]| -> Result<(), ()> {
            rows.push(
                e.iter()
                    .map(|&(start, end)| b[start..end].to_vec())
                    .collect(),
            );
            Ok(())
        };
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let mut from = 0;
        for cut in cuts.into_iter().chain([input.len()]) {
            if cut > from {
                feeder.feed(&input[from..cut], &mut on).unwrap();
                from = cut;
            }
        }
        feeder.feed(&[], &mut on).unwrap();
        rows
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The fast path reads every input, regular or not, in every chunking, exactly
        /// as csv-core does.
        #[test]
        fn the_fast_path_reads_as_csv_core_does(
            tokens in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\"", ",", "\n", "\r", "\r\n", "a", "b c", "é", "\"x\"", "\"\"",
                    "\"y\",", "\"z\"\n", "|", "\t",
                ]),
                0..40,
            ),
            cuts in proptest::collection::vec(0usize..400, 0..6),
            delimiter in proptest::sample::select(vec![b',', b'|', b'\t']),
        ) {
            let input = tokens.concat();
            let fast = records_of(&mut CsvFeeder::new(delimiter), input.as_bytes(), &cuts);
            let core = records_of(&mut CsvFeeder::csv_core_only(delimiter), input.as_bytes(), &cuts);
            proptest::prop_assert_eq!(fast, core, "{:?}", input);
        }

        /// Salesforce-shaped pages, the fast path's own ground, in every chunking.
        #[test]
        fn salesforce_pages_read_as_csv_core_does(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::option::of("[a-z \"\r\n,é]{0,12}"),
                    3,
                ),
                0..20,
            ),
            crlf: bool,
            cuts in proptest::collection::vec(0usize..2000, 0..8),
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut page = format!("\"A\",\"B\",\"C\"{end}");
            for row in &rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| c.as_ref().map_or(String::new(), |c| format!("\"{}\"", c.replace('"', "\"\""))))
                    .collect();
                page.push_str(&cells.join(","));
                page.push_str(end);
            }
            let mut feeder = CsvFeeder::new(b',');
            let fast = records_of(&mut feeder, page.as_bytes(), &cuts);
            let core = records_of(&mut CsvFeeder::csv_core_only(b','), page.as_bytes(), &cuts);
            // Such a page never leaves the fast path.
            proptest::prop_assert!(feeder.fast, "{:?}", page);
            // The header and every row: a row of nulls is `,,`, no blank line.
            proptest::prop_assert_eq!(fast.len(), rows.len() + 1);
            proptest::prop_assert_eq!(fast, core);
        }
    }

    #[test]
    fn quoted_newlines_quotes_and_every_chunking() {
        let body =
            "\"Id\",\"Name\"\r\n\"1\",\"a \"\"quoted\"\"\r\nline\"\r\n\"2\",\r\n\"3\",\"é€\"";
        let want = vec![
            vec!["Id", "Name"],
            vec!["1", "a \"quoted\"\r\nline"],
            vec!["2", ""],
            vec!["3", "é€"],
        ];
        for chunk in 1..body.len() + 1 {
            assert_eq!(
                parse_in_chunks(body.as_bytes(), chunk, b','),
                want,
                "chunk {chunk}"
            );
        }
        let body = "Id|Name\n1|x,y\n";
        assert_eq!(
            parse_in_chunks(body.as_bytes(), 3, b'|'),
            vec![vec!["Id", "Name"], vec!["1", "x,y"]]
        );
    }

    #[test]
    fn one_column_blank_lines_are_null_rows_in_every_chunking() {
        let cases: [(&str, Vec<Vec<&str>>); 5] = [
            (
                "Name\n\"a\"\n\n\"b\"\n\n",
                vec![vec!["Name"], vec!["a"], vec![""], vec!["b"], vec![""]],
            ),
            (
                "Name\r\n\r\n\"a\"\r\n\r\n",
                vec![vec!["Name"], vec![""], vec!["a"], vec![""]],
            ),
            (
                "\"Name\"\n\"x\n\ny\"\n\n",
                vec![vec!["Name"], vec!["x\n\ny"], vec![""]],
            ),
            (
                "Name\n\"a \"\"q\"\"\"\n\n\"b\"",
                vec![vec!["Name"], vec!["a \"q\""], vec![""], vec!["b"]],
            ),
            // Two columns: a blank line is no record, as before.
            (
                "A,B\n1,2\n\n3,4\n",
                vec![vec!["A", "B"], vec!["1", "2"], vec!["3", "4"]],
            ),
        ];
        for (body, want) in cases {
            for chunk in 1..body.len() + 1 {
                assert_eq!(
                    parse_in_chunks(body.as_bytes(), chunk, b','),
                    want,
                    "{body:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn cells_are_utf8_each_not_only_joined() {
        let mut out = Vec::new();
        let euro = "€".as_bytes();
        assert!(
            !cells(euro, &[(0, 1), (1, 3)], &mut out),
            "a cut inside a character"
        );
        assert!(!cells(b"ab\xff", &[(0, 1), (1, 3)], &mut out));
        assert!(cells("aé€".as_bytes(), &[(0, 1), (1, 3), (3, 6)], &mut out));
        assert_eq!(out, ["a", "é", "€"]);
    }

    #[test]
    fn gzip_is_sniffed() {
        use flate2::Compression;
        use flate2::write::GzEncoder;
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(b"\"Id\"\n\"1\"\n").unwrap();
        let gz = enc.finish().unwrap();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for c in gz.chunks(1) {
            d.push(c, &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        }
        d.finish(&mut |b| {
            out.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert_eq!(out, b"\"Id\"\n\"1\"\n");
        let mut d = Decoder::new();
        let mut err = d.push(&gz[..gz.len() / 2], &mut |_| Ok(()));
        if err.is_ok() {
            err = d.finish(&mut |_| Ok(()));
        }
        assert!(err.is_err());
    }
}
