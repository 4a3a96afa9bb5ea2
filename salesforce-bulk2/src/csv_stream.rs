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
pub(crate) struct CsvFeeder {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    done: bool,
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
        }
    }

    /// Parses `input`, calling `on_record(bytes, ends)` for every complete record (each
    /// field is `bytes[prev_end..end]`). An empty `input` means the end of the body.
    pub(crate) fn feed<E>(
        &mut self,
        mut input: &[u8],
        on_record: &mut OnRecord<'_, E>,
    ) -> Result<(), E> {
        if self.done {
            return Ok(());
        }
        let eof = input.is_empty();
        loop {
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
                    self.nout = 0;
                    self.nend = 0;
                    r?;
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
