//! Line numbers for byte offsets in a stream we do not keep.
//!
//! quick-xml reports byte offsets; people want lines. [`LineTracker`] sits between the source and
//! the XML reader and notes where newlines are as bytes are consumed. It only remembers the
//! newlines after a mark that the reader moves forward before every event, so memory stays
//! bounded by the largest single event, not by the document.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) struct LineTracker<R> {
    inner: R,
    /// Bytes consumed so far.
    consumed: u64,
    /// Newlines before `window_start`, counted and forgotten.
    newlines_before_window: u64,
    window_start: u64,
    /// Offsets of the newlines at or after `window_start`, ascending.
    window: VecDeque<u64>,
    /// quick-xml does not count a leading byte-order mark in its offsets.
    bom_len: u64,
}

impl<R: BufRead> LineTracker<R> {
    pub(crate) fn new(inner: R) -> LineTracker<R> {
        LineTracker {
            inner,
            consumed: 0,
            newlines_before_window: 0,
            window_start: 0,
            window: VecDeque::new(),
            bom_len: 0,
        }
    }

    /// Forgets newlines before `offset` (an offset as quick-xml counts it); later questions
    /// will only be about offsets at or after it.
    pub(crate) fn forget_before(&mut self, offset: u64) {
        let absolute = offset + self.bom_len;
        if absolute <= self.window_start {
            return;
        }
        while self.window.front().is_some_and(|&nl| nl < absolute) {
            self.window.pop_front();
            self.newlines_before_window += 1;
        }
        self.window_start = absolute;
    }

    /// The 1-based line holding the byte at `offset` (as quick-xml counts it).
    pub(crate) fn line_of(&self, offset: u64) -> u64 {
        let absolute = offset + self.bom_len;
        let in_window = self.window.partition_point(|&nl| nl < absolute) as u64;
        self.newlines_before_window + in_window + 1
    }
}

impl<R: BufRead> Read for LineTracker<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineTracker<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // `consume` may only be given bytes that `fill_buf` returned, so asking again returns
        // the same buffered bytes without touching the source.
        if let Ok(buffered) = self.inner.fill_buf() {
            let taken = &buffered[..amount.min(buffered.len())];
            if self.consumed == 0 && taken == UTF8_BOM {
                self.bom_len = UTF8_BOM.len() as u64;
            }
            for (i, byte) in taken.iter().enumerate() {
                if *byte == b'\n' {
                    self.window.push_back(self.consumed + i as u64);
                }
            }
        }
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_after_forgetting() {
        let mut tracker = LineTracker::new(&b"ab\ncd\n\nef"[..]);
        let mut all = Vec::new();
        tracker.read_to_end(&mut all).unwrap();
        assert_eq!(tracker.line_of(0), 1);
        assert_eq!(tracker.line_of(2), 1);
        assert_eq!(tracker.line_of(3), 2);
        assert_eq!(tracker.line_of(7), 4);
        tracker.forget_before(4);
        assert_eq!(tracker.line_of(4), 2);
        assert_eq!(tracker.line_of(8), 4);
    }
}
