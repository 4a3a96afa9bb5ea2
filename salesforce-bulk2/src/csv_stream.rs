//! Incremental CSV parsing of response bodies: chunks go in as they arrive, records
//! come out as soon as they are complete (`csv-core`, the csv crate's parser). Nothing
//! but the record being parsed is held, so a page of any size takes constant memory.
//! Bodies that are gzip without saying so are recognised by their magic bytes.

use std::io::Write as _;

use csv_core::ReadRecordResult;
use flate2::write::GzDecoder;

/// What a parsed record is handed to: the record's bytes and its fields' end offsets.
pub(crate) type OnRecord<'a, E> = dyn FnMut(&[u8], &[usize]) -> Result<(), E> + 'a;

/// A push parser of CSV records.
///
/// csv-core skips blank lines. In a result of one column a blank line is a row whose
/// value is null (Salesforce writes null as nothing and quotes every other value), so
/// once the header turns out to have a single column, blank lines are found here and
/// handed on as records of one empty cell.
pub(crate) struct CsvFeeder {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    done: bool,
    /// Records parsed so far (the header included).
    records: u64,
    /// Where the bytes are, once blank lines are rows (a one-column header).
    lines: Option<LineState>,
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
            out: vec![0; 8 * 1024],
            ends: vec![0; 64],
            nout: 0,
            nend: 0,
            done: false,
            records: 0,
            lines: None,
        }
    }

    /// Parses `input`, calling `on_record(bytes, ends)` for every complete record (each
    /// field is `bytes[prev_end..end]`). An empty `input` means the end of the body.
    pub(crate) fn feed<E>(
        &mut self,
        input: &[u8],
        on_record: &mut OnRecord<'_, E>,
    ) -> Result<(), E> {
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
                    on_record(b"", &[0])?;
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
                    let r = on_record(&self.out[..self.nout], &self.ends[..self.nend]);
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

/// Splits a parsed record into `&str` cells; `None` when a cell is not UTF-8.
///
/// The record is checked as UTF-8 once, then cut at its field ends; a cut that falls
/// inside a character (two cells that are only valid joined) fails too.
pub(crate) fn cells<'a>(bytes: &'a [u8], ends: &[usize], out: &mut Vec<&'a str>) -> bool {
    out.clear();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut start = 0;
    for &end in ends {
        match text.get(start..end) {
            Some(s) => out.push(s),
            None => return false,
        }
        start = end;
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
        let mut on = |b: &[u8], e: &[usize]| -> Result<(), ()> {
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
        assert!(!cells(euro, &[1, 3], &mut out), "a cut inside a character");
        assert!(!cells(b"ab\xff", &[1, 3], &mut out));
        assert!(cells("aé€".as_bytes(), &[1, 3, 6], &mut out));
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
