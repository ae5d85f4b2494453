//! The KPI digest's trend chart: a PNG for platforms that take files, a text sparkline for
//! the others. Pure: the picture is drawn into memory and encoded there.
//!
//! The chart carries no text (labels would need a font library); the message around it
//! names the series and the scale: opened (blue) and resolved (green) per day.

use plotters::prelude::*;

use super::report::DayPoint;

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 240;

const OPENED: RGBColor = RGBColor(52, 101, 164);
const RESOLVED: RGBColor = RGBColor(78, 154, 6);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// Draws the opened/resolved lines as a PNG; `None` when there is nothing to draw or the
/// drawing fails (the digest then goes out with its sparkline only).
pub fn trend_png(points: &[DayPoint]) -> Option<Vec<u8>> {
    if points.len() < 2 {
        return None;
    }
    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw(points, &mut pixels).ok()?;
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    image::ImageEncoder::write_image(encoder, &pixels, WIDTH, HEIGHT, image::ColorType::Rgb8)
        .ok()?;
    Some(png)
}

fn draw(points: &[DayPoint], pixels: &mut [u8]) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(pixels, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = points.iter().map(|p| p.opened.max(p.resolved)).max().unwrap_or(0).max(1);
    let last = points.len() as i64 - 1;
    let mut chart = ChartBuilder::on(&root).margin(12).build_cartesian_2d(0..last, 0..top)?;
    for quarter in 1..=4 {
        let y = top * quarter / 4;
        chart.draw_series(LineSeries::new([(0, y), (last, y)], GRID))?;
    }
    let series = |pick: fn(&DayPoint) -> i64| {
        points.iter().enumerate().map(move |(i, p)| (i as i64, pick(p))).collect::<Vec<_>>()
    };
    chart.draw_series(LineSeries::new(series(|p| p.opened), OPENED.stroke_width(3)))?;
    chart.draw_series(LineSeries::new(series(|p| p.resolved), RESOLVED.stroke_width(3)))?;
    root.present()?;
    Ok(())
}

/// `▁▂▄█`-style line of the values, scaled to the largest.
pub fn sparkline(values: &[i64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let top = values.iter().copied().max().unwrap_or(0).max(1);
    values.iter().map(|v| BARS[((v.max(&0) * 7 + top / 2) / top).clamp(0, 7) as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(d: u32, opened: i64, resolved: i64) -> DayPoint {
        DayPoint { day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(), opened, resolved }
    }

    #[test]
    fn the_trend_chart_is_a_png() {
        let png = trend_png(&[day(1, 3, 1), day(2, 5, 4), day(3, 2, 6)]).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn one_day_is_no_chart() {
        assert_eq!(trend_png(&[day(1, 3, 1)]), None);
    }

    #[test]
    fn sparklines_scale_to_the_largest_value() {
        assert_eq!(sparkline(&[0, 4, 8]), "▁▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
    }
}
