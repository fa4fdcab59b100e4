//! Byte searches for the lexer and the YAML reader.
//!
//! On x86-64 they use memchr's SSE2 search, which every x86-64 CPU has (a compile-time
//! fact): memchr's default entry points first ask the CPU whether it has AVX2, and that
//! first question is std's CPU-feature probe, about eight `cpuid` instructions. On a virtual
//! machine each one exits to the hypervisor (7 µs measured), so the probe cost ~50 µs, a
//! fortieth of a small chart's whole `template` run. Lines and keys are short: SSE2 is as
//! fast there. Other targets use memchr's own choice.

/// The first position of `needle` in `hay`.
pub(crate) fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(one) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        return one.find(hay);
    }
    memchr::memchr(needle, hay)
}

/// Every position of `needle` in `hay`, in order.
pub(crate) fn positions(needle: u8, hay: &[u8]) -> Positions<'_> {
    Positions { needle, hay, at: 0 }
}

pub(crate) struct Positions<'h> {
    needle: u8,
    hay: &'h [u8],
    at: usize,
}

impl Iterator for Positions<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let found = self.at + find(self.needle, self.hay.get(self.at..)?)?;
        self.at = found + 1;
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_as_memchr_does() {
        let hay = b"a:b\n:\n\n::x";
        for needle in [b':', b'\n', b'x', b'z'] {
            assert_eq!(super::find(needle, hay), memchr::memchr(needle, hay));
            assert_eq!(
                super::positions(needle, hay).collect::<Vec<_>>(),
                memchr::memchr_iter(needle, hay).collect::<Vec<_>>()
            );
        }
        assert_eq!(super::positions(b'a', b"").count(), 0);
    }
}
