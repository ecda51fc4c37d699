//! Random draws the model needs, all from the simulator's one seeded generator so that a seed
//! fixes every number.

use fastrand::Rng;

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson draw with mean `lambda` (Knuth; the model only asks for small means).
pub fn poisson(rng: &mut Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    let lambda = lambda.min(60.0);
    let limit = (-lambda).exp();
    let mut product = rng.f64();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.f64();
    }
    count
}

/// Lowercase letters and digits as Kubernetes uses in generated names (no vowels, no 0/1/3).
const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `len` random characters in the style of a pod name suffix, e.g. `x2lqp`.
pub fn name_suffix(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(NAME_CHARS[rng.usize(..NAME_CHARS.len())]))
        .collect()
}

/// A random lowercase hex string, e.g. for trace ids.
pub fn hex(rng: &mut Rng, len: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..len)
        .map(|_| char::from(HEX[rng.usize(..HEX.len())]))
        .collect()
}

/// A stable short hash of a string, hex, in the style of a pod-template hash (`7f9c4`).
pub fn template_hash(text: &str) -> String {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:05x}", hash & 0xf_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_asked_for_means() {
        let mut rng = Rng::with_seed(7);
        let n = 20_000;
        let mean_normal: f64 = (0..n).map(|_| normal(&mut rng)).sum::<f64>() / f64::from(n);
        assert!(mean_normal.abs() < 0.05, "{mean_normal}");
        let mean_poisson = (0..n)
            .map(|_| f64::from(poisson(&mut rng, 4.0)))
            .sum::<f64>()
            / f64::from(n);
        assert!((mean_poisson - 4.0).abs() < 0.1, "{mean_poisson}");
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }

    #[test]
    fn names_look_like_kubernetes_names() {
        let mut rng = Rng::with_seed(1);
        let suffix = name_suffix(&mut rng, 5);
        assert_eq!(suffix.len(), 5);
        assert_eq!(
            template_hash("shop-cart/r-41"),
            template_hash("shop-cart/r-41")
        );
        assert_ne!(
            template_hash("shop-cart/r-41"),
            template_hash("shop-cart/r-42")
        );
        assert_eq!(template_hash("x").len(), 5);
    }
}
