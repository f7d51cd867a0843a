//! The process's allocator: mimalloc, reached through its plain entry points wherever they
//! give the alignment asked for.
//!
//! The `mimalloc` crate sends every request through `mi_malloc_aligned`, which in mimalloc 3
//! takes a longer, generic path for most sizes. Almost every request of this program (strings,
//! vectors of small structs) asks for an alignment of 16 bytes or less and a size that is a
//! multiple of it, which every block of mimalloc's size classes satisfies: the classes are
//! multiples of 8 (of 16 above 16) and the first block of a page is 16-aligned. Such requests
//! take `mi_malloc`; the rest keep the aligned entry points. Screening allocates a few strings
//! per name part: this saved 2 % of its instructions (cachegrind, full path of a pair).
//!
//! The benchmark of the matcher (`tandem-match`'s `bench_match`) includes this file, so that
//! it measures the allocator that runs here.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment of every block whose size is a multiple of it (`MI_MAX_ALIGN_SIZE`).
const NATURAL_ALIGNMENT: usize = 16;

pub struct Allocator;

/// Whether a plain allocation of `size` bytes is aligned to `align`.
fn natural(size: usize, align: usize) -> bool {
    align <= NATURAL_ALIGNMENT && size.is_multiple_of(align)
}

// SAFETY: each method hands its request to mimalloc, whose plain entry points return blocks
// aligned to `NATURAL_ALIGNMENT` when the size is a multiple of the alignment asked for (the
// condition `natural` checks), and whose aligned entry points honour any other alignment.
// Blocks from either are released by `mi_free` and resized by either `mi_realloc` variant.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain FFI calls; `layout` has a non-zero size per `GlobalAlloc`'s contract.
        unsafe {
            if natural(layout.size(), layout.align()) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if natural(layout.size(), layout.align()) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from mimalloc.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator; the new block keeps the alignment asked for.
        unsafe {
            if natural(new_size, layout.align()) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::{Layout, alloc, alloc_zeroed, dealloc, realloc};

    /// Every size and alignment a program asks for comes back aligned, zeroed when asked,
    /// and keeps its bytes when resized (this runs on the global allocator of the binary).
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes() {
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=300).chain([1000, 4096, 70_000]) {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: non-zero sizes; every block is freed once with its layout.
                unsafe {
                    let zeroed = alloc_zeroed(layout);
                    assert!(!zeroed.is_null());
                    assert_eq!(zeroed as usize % align, 0, "zeroed {size}/{align}");
                    assert!(
                        (0..size).all(|i| *zeroed.add(i) == 0),
                        "zeroed {size}/{align}"
                    );
                    dealloc(zeroed, layout);

                    let block = alloc(layout);
                    assert!(!block.is_null());
                    assert_eq!(block as usize % align, 0, "{size}/{align}");
                    for i in 0..size {
                        *block.add(i) = (i % 251) as u8;
                    }
                    let grown = realloc(block, layout, size * 3);
                    assert!(!grown.is_null());
                    assert_eq!(grown as usize % align, 0, "grown {size}/{align}");
                    assert!((0..size).all(|i| *grown.add(i) == (i % 251) as u8));
                    dealloc(grown, Layout::from_size_align_unchecked(size * 3, align));
                }
            }
        }
    }
}
