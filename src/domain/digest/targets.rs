//! Targets per KPI (`[digests.targets]`) and how a figure stands against its target and
//! against the previous window.

use chrono::Duration;

/// What a KPI digest's figures are held to; `None`: no target for that figure.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Targets {
    /// Time to acknowledge / accept, p50 and p90: at most.
    pub tta_p50: Option<Duration>,
    pub tta_p90: Option<Duration>,
    /// Time to resolve, p50 and p90: at most.
    pub ttr_p50: Option<Duration>,
    pub ttr_p90: Option<Duration>,
    /// SLA attainment (0–1): at least.
    pub attainment: Option<f64>,
    /// First-contact resolution (0–1): at least.
    pub first_contact_resolution: Option<f64>,
    /// Reopen rate (0–1): at most.
    pub reopen_rate: Option<f64>,
}

/// Whether a figure met its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Met,
    Missed,
}

/// `value` against an upper bound (durations, reopen rate).
pub fn at_most(value: Option<f64>, target: Option<f64>) -> Option<Standing> {
    let (value, target) = (value?, target?);
    Some(if value <= target { Standing::Met } else { Standing::Missed })
}

/// `value` against a lower bound (attainment, first-contact resolution).
pub fn at_least(value: Option<f64>, target: Option<f64>) -> Option<Standing> {
    let (value, target) = (value?, target?);
    Some(if value >= target { Standing::Met } else { Standing::Missed })
}

/// Which way a figure moved since the previous window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Up,
    Down,
    Same,
}

pub fn trend(current: Option<f64>, previous: Option<f64>) -> Option<Trend> {
    let (current, previous) = (current?, previous?);
    Some(if (current - previous).abs() < 1e-9 {
        Trend::Same
    } else if current > previous {
        Trend::Up
    } else {
        Trend::Down
    })
}

pub fn seconds(duration: Option<Duration>) -> Option<f64> {
    duration.map(|d| d.num_seconds() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_on_its_target_meets_it_and_a_missing_figure_has_no_standing() {
        assert_eq!(at_most(Some(3600.0), seconds(Some(Duration::hours(1)))), Some(Standing::Met));
        assert_eq!(at_most(Some(3601.0), Some(3600.0)), Some(Standing::Missed));
        assert_eq!(at_least(Some(0.95), Some(0.95)), Some(Standing::Met));
        assert_eq!(at_least(Some(0.949), Some(0.95)), Some(Standing::Missed));
        assert_eq!(at_least(None, Some(0.95)), None);
        assert_eq!(at_least(Some(0.5), None), None);
    }

    #[test]
    fn the_trend_is_up_down_or_the_same() {
        assert_eq!(trend(Some(2.0), Some(1.0)), Some(Trend::Up));
        assert_eq!(trend(Some(1.0), Some(2.0)), Some(Trend::Down));
        assert_eq!(trend(Some(1.0), Some(1.0)), Some(Trend::Same));
        assert_eq!(trend(Some(1.0), None), None);
    }
}
