//! Numerical helpers shared by the engines' statistical tests.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-13), with the
/// reflection formula below 0.5.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln(n!).
pub fn ln_factorial(n: u64) -> f64 {
    ln_gamma(n as f64 + 1.0)
}

/// Natural log of the upper tail `P(X ≥ x)` for `X ~ Poisson(λ)`, accurate far into the
/// tail (where the probability itself underflows, the log stays finite), so that tests
/// over many pairs or windows can compare it with tiny per-test levels.
pub fn poisson_upper_ln(x: u64, lambda: f64) -> f64 {
    if x == 0 {
        return 0.0;
    }
    if lambda <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let xf = x as f64;
    if lambda >= xf {
        // The tail is at least about one half: one minus the short lower sum.
        let mut term = (-lambda).exp();
        let mut lower = term;
        for k in 1..x {
            term *= lambda / k as f64;
            lower += term;
        }
        return (1.0 - lower).max(f64::MIN_POSITIVE).ln();
    }
    // Sum the terms from x upwards relative to the first; they fall geometrically.
    let ln_first = -lambda + xf * lambda.ln() - ln_gamma(xf + 1.0);
    let mut sum = 1.0;
    let mut ratio = 1.0;
    let mut k = xf;
    for _ in 0..10_000 {
        k += 1.0;
        ratio *= lambda / k;
        sum += ratio;
        if ratio < 1e-17 * sum {
            break;
        }
    }
    ln_first + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tail_agrees_with_direct_sums() {
        for &lambda in &[0.01f64, 0.3, 1.0, 2.0, 4.5, 10.0, 20.0] {
            for x in 0..40u64 {
                // Reference: the tail summed term by term from pmf(0) upwards.
                let mut pmf = (-lambda).exp();
                let mut tail = 0.0;
                for k in 0..400u64 {
                    if k >= x {
                        tail += pmf;
                    }
                    pmf *= lambda / (k as f64 + 1.0);
                }
                if tail > 1e-250 {
                    let got = poisson_upper_ln(x, lambda).exp();
                    assert!((got - tail).abs() / tail < 1e-6, "λ={lambda} x={x}: {got} vs {tail}");
                }
            }
        }
        // Far tails stay finite and monotone.
        assert!(poisson_upper_ln(200, 0.5) < poisson_upper_ln(100, 0.5));
        assert!(poisson_upper_ln(200, 0.5).is_finite());
        assert_eq!(poisson_upper_ln(3, 0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half() {
        let mut f = 1.0f64;
        for n in 1..30u64 {
            f *= n as f64;
            assert!((ln_factorial(n) - f.ln()).abs() < 1e-9, "n={n}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(0.25) - 1.288_022_524_698_077_5).abs() < 1e-12);
    }
}
