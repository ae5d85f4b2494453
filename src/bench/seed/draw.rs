//! A small repeatable pseudo-random source (SplitMix64): each generated row draws from its
//! own stream, seeded by the row number and the kind, so row `n` of a run is the same
//! whatever the other arguments, and no crate's algorithm change alters seeded history.

use chrono::{DateTime, Duration, Utc};

use crate::domain::sla_policy::{ClockView, SlaPlan};

/// The stream of one row.
#[derive(Debug, Clone)]
pub struct Draw(u64);

impl Draw {
    /// The stream of row `row` of a kind (`salt` tells kinds apart).
    pub fn row(salt: u64, row: u64) -> Draw {
        let mut draw = Draw(row.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt);
        draw.next_u64();
        draw
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fraction in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A fraction in `[low, high)`.
    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// An index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    /// One of `items`, or `None` when there are none.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { items.get(self.below(items.len())) }
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut left = (self.unit() * f64::from(total)) as u32;
        for (index, weight) in weights.iter().enumerate() {
            if left < *weight {
                return index;
            }
            left -= weight;
        }
        weights.len().saturating_sub(1)
    }
}

/// `from + fraction × (to − from)`, to the whole second (stored timestamps and documents then
/// agree exactly).
pub fn along(from: DateTime<Utc>, to: DateTime<Utc>, fraction: f64) -> DateTime<Utc> {
    let seconds = ((to - from).num_seconds() as f64 * fraction).round() as i64;
    from + Duration::seconds(seconds)
}

/// When a seeded two-clock item is first answered and when it is resolved: drawn around
/// the due times of its `first` and `resolve` clocks (opened + target where a clock shows
/// none), early or late, and resolved at least five minutes after the first answer.
pub fn answered_and_resolved(
    draw: &mut Draw,
    opened_at: DateTime<Utc>,
    plan: &SlaPlan,
    (first, resolve): (ClockView, ClockView),
) -> (DateTime<Utc>, DateTime<Utc>) {
    let due =
        |view: ClockView, target: i64| view.due.unwrap_or(opened_at + Duration::seconds(target));
    let first_due = due(first, plan.acknowledge_seconds);
    let resolve_due = due(resolve, plan.resolve_seconds);
    let answered_at = along(opened_at, first_due, draw.between(0.1, 1.3));
    let resolved_at = along(opened_at, resolve_due, draw.between(0.2, 1.5))
        .max(answered_at + Duration::minutes(5));
    (answered_at, resolved_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_draws_the_same_values_every_time_and_rows_differ() {
        let values = |row| {
            let mut draw = Draw::row(7, row);
            (0..4).map(|_| draw.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(values(42), values(42));
        assert_ne!(values(42), values(43));
        assert_ne!(values(42), {
            let mut other = Draw::row(8, 42);
            (0..4).map(|_| other.next_u64()).collect::<Vec<_>>()
        });
    }

    #[test]
    fn fractions_and_picks_stay_in_range() {
        let mut draw = Draw::row(1, 1);
        let mut seen = [0usize; 3];
        for _ in 0..3000 {
            let unit = draw.unit();
            assert!((0.0..1.0).contains(&unit));
            seen[draw.weighted(&[1, 2, 0])] += 1;
            assert!(draw.below(5) < 5);
        }
        assert_eq!(seen[2], 0);
        assert!(seen[1] > seen[0], "{seen:?}");
    }
}
