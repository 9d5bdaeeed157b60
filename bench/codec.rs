//! Codec benchmarks (filled in below as the codec lands).
use criterion::{criterion_group, criterion_main, Criterion};
fn memcpy(c: &mut Criterion) {
    let src = vec![0x40u8; 1024];
    let mut dst = vec![0u8; 1024];
    c.bench_function("memcpy_1k", |b| b.iter(|| dst.copy_from_slice(std::hint::black_box(&src))));
}
criterion_group!(benches, memcpy);
criterion_main!(benches);
