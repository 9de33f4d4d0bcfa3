//! The report's plots as SVG (plotters): latency percentiles and rates over time, served versus
//! fair share per tenant, and the latency distribution (percentile spectrum) overall and per
//! kind. Every axis says its unit; legends sit in a strip beside the plotting area, so they
//! never cover data.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Quantile, Report};

const SIZE: (u32, u32) = (760, 320);
const FONT: (&str, u32) = ("sans-serif", 16);
const LEGEND_FONT: (&str, u32) = ("sans-serif", 13);
/// The strip right of the plotting area that holds the legend, so it never covers data.
const LEGEND_WIDTH: u32 = 150;
/// Colours that stay distinct in print and for common colour blindness (Okabe-Ito).
const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(230, 159, 0);
const RED: RGBColor = RGBColor(213, 94, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const SKY: RGBColor = RGBColor(86, 180, 233);
const PURPLE: RGBColor = RGBColor(204, 121, 167);
const GREY: RGBColor = RGBColor(80, 80, 80);
/// Kinds' lines in the distribution plot, after the overall one.
const KIND_COLOURS: [RGBColor; 6] = [ORANGE, GREEN, PURPLE, SKY, RED, GREY];

/// The time axis of the per-second plots.
const SECONDS: &str = "time into the measured run (s)";

/// A plot as SVG, or why it could not be drawn.
pub type Plot = Result<String, String>;
/// A named line in a colour.
type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
enum Swatch {
    Line(RGBColor),
    Block(ShapeStyle),
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("plotting: {e}")
}

/// A white canvas with the title on top and, when there is one, the legend in a strip on the
/// right: the canvas (to present) and the area left for the chart.
fn canvas<'a>(
    svg: &'a mut String,
    title: &str,
    legend: &[(&str, Swatch)],
) -> Result<(Area<'a>, Area<'a>), String> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(failed)?;
    let body = root.titled(title, FONT).map_err(failed)?;
    if legend.is_empty() {
        return Ok((root, body));
    }
    let (chart, side) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let text = TextStyle::from(LEGEND_FONT).pos(Pos::new(HPos::Left, VPos::Center));
    for (row, (name, swatch)) in (0i32..).zip(legend) {
        let y = 24 + 20 * row;
        match swatch {
            Swatch::Line(colour) => side.draw(&PathElement::new(
                vec![(6, y), (26, y)],
                colour.stroke_width(2),
            )),
            Swatch::Block(style) => side.draw(&Rectangle::new([(10, y - 5), (22, y + 5)], *style)),
        }
        .map_err(failed)?;
        side.draw(&Text::new(name.to_string(), (32, y), text.clone()))
            .map_err(failed)?;
    }
    Ok((root, chart))
}

/// A line chart of named series over the same x axis.
fn lines(title: &str, x_desc: &str, y_desc: &str, series: &[Series<'_>]) -> Plot {
    let x_max = series
        .iter()
        .flat_map(|(_, _, points)| points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let y_max = series
        .iter()
        .flat_map(|(_, _, points)| points.iter().map(|p| p.1))
        .fold(1e-3f64, f64::max)
        * 1.1;
    let legend: Vec<(&str, Swatch)> = series
        .iter()
        .map(|(name, colour, _)| (*name, Swatch::Line(*colour)))
        .collect();
    let mut svg = String::new();
    {
        let (root, area) = canvas(&mut svg, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(failed)?;
        for (_, colour, points) in series {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Every plot of the report in the order the page shows them, each with the file name it is
/// written under beside the page (`plots/NAME.svg`), so documents can include them as images.
/// Drawn once per report: the page and the files share them.
pub fn all(report: &Report) -> [(&'static str, Plot); 5] {
    [
        ("latency-over-time", latency_over_time(report)),
        ("rate-over-time", rate_over_time(report)),
        ("host-speed", host_speed(report)),
        ("tenant-shares", tenant_shares(report)),
        ("latency-distribution", distribution(report)),
    ]
}

/// p50, p95 and p99 of each second.
pub fn latency_over_time(report: &Report) -> Plot {
    let pick = |f: fn(&super::IntervalReport) -> f64| {
        report
            .intervals
            .iter()
            .map(|i| (i.second as f64, f(i)))
            .collect::<Vec<_>>()
    };
    lines(
        "Latency per second (from intended send time)",
        SECONDS,
        "latency (ms)",
        &[
            ("p50", BLUE, pick(|i| i.p50_ms)),
            ("p95", ORANGE, pick(|i| i.p95_ms)),
            ("p99", RED, pick(|i| i.p99_ms)),
        ],
    )
}

/// The host per second: one BLS verification's wall time (higher = busier or slower host).
pub fn host_speed(report: &Report) -> Plot {
    let points: Vec<(f64, f64)> = report
        .intervals
        .iter()
        .filter_map(|i| Some((i.second as f64, i.host_probe_ms?)))
        .collect();
    lines(
        "One BLS verification on the rig's host (higher = busier or slower host)",
        SECONDS,
        "wall time (ms)",
        &[("verification", GREEN, points)],
    )
}

/// Requests sent and served each second.
pub fn rate_over_time(report: &Report) -> Plot {
    let pick = |f: fn(&super::IntervalReport) -> u64| {
        report
            .intervals
            .iter()
            .map(|i| (i.second as f64, f(i) as f64))
            .collect::<Vec<_>>()
    };
    lines(
        "Rate per second",
        SECONDS,
        "rate (req/s)",
        &[
            ("sent", BLUE, pick(|i| i.sent)),
            ("served", GREEN, pick(|i| i.served)),
            ("errors", RED, pick(|i| i.errors)),
        ],
    )
}

/// The percentile spectrum, overall and per kind: latency against 1 / (1 - percentile) on a
/// log scale.
pub fn distribution(report: &Report) -> Plot {
    let spectrum = |quantiles: &[Quantile]| -> Vec<(f64, f64)> {
        quantiles
            .iter()
            .filter(|q| q.percentile < 100.0)
            .map(|Quantile { percentile, ms }| (nines(*percentile), *ms))
            .collect()
    };
    let mut series: Vec<Series<'_>> = vec![("all", BLUE, spectrum(&report.distribution_ms))];
    // One kind alone is the same line as all.
    if report.kinds.len() > 1 {
        for (kind, colour) in report.kinds.iter().zip(KIND_COLOURS) {
            if !kind.distribution_ms.is_empty() {
                series.push((kind.kind.as_str(), colour, spectrum(&kind.distribution_ms)));
            }
        }
    }
    let points = series.iter().flat_map(|(_, _, points)| points.iter());
    let x_max = points.clone().map(|p| p.0).fold(1.0f64, f64::max).ceil();
    let y_max = points.map(|p| p.1).fold(1e-3f64, f64::max) * 1.1;
    let legend: Vec<(&str, Swatch)> = series
        .iter()
        .map(|(name, colour, _)| (*name, Swatch::Line(*colour)))
        .collect();
    let max = report.overall.latency_ms.max;
    let title = format!("Latency by percentile, all finished requests (max {max:.1} ms)");
    let mut svg = String::new();
    {
        let (root, area) = canvas(&mut svg, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(failed)?;
        let label = |x: &f64| {
            let nines = x.round() as i32;
            if (x - f64::from(nines)).abs() > 1e-6 {
                return String::new();
            }
            match nines {
                0 => "0%".into(),
                1 => "90%".into(),
                n => format!("99.{}%", "9".repeat((n - 2) as usize)).replace("99.%", "99%"),
            }
        };
        chart
            .configure_mesh()
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&label)
            .x_desc("percentile (%, log scale of the tail)")
            .y_desc("latency (ms)")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(failed)?;
        // The overall line (the first) last, on top, and thicker.
        for (index, (_, colour, points)) in series.iter().enumerate().rev() {
            let width = if index == 0 { 3 } else { 2 };
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(width),
                ))
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// log10(1 / (1 - p)) for p in percent: 90 % is 1, 99 % is 2, 99.9 % is 3.
fn nines(percentile: f64) -> f64 {
    let rest = (1.0 - percentile / 100.0).max(1e-7);
    -rest.log10()
}

/// Each tenant's served rate beside its fair share.
pub fn tenant_shares(report: &Report) -> Plot {
    let names: Vec<String> = report.tenants.iter().map(|t| t.name.clone()).collect();
    let n = names.len().max(1) as f64;
    let y_max = report
        .tenants
        .iter()
        .flat_map(|t| [t.group.counts.served_rps, t.fair_share_rps])
        .fold(1e-3f64, f64::max)
        * 1.2;
    let served = GREEN.filled();
    let fair = BLUE.mix(0.5).filled();
    let legend = [
        ("served", Swatch::Block(served)),
        ("fair share", Swatch::Block(fair)),
    ];
    let mut svg = String::new();
    {
        let (root, area) = canvas(&mut svg, "Served rate and fair share per tenant", &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..y_max)
            .map_err(failed)?;
        let label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            names.get(i as usize).cloned().unwrap_or_default()
        };
        chart
            .configure_mesh()
            .x_labels(names.len())
            .x_label_formatter(&label)
            .x_desc("tenant")
            .y_desc("rate (req/s)")
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(failed)?;
        let bars = |offset: f64, pick: fn(&super::TenantReport) -> f64, style: ShapeStyle| {
            report.tenants.iter().enumerate().map(move |(i, t)| {
                let x = i as f64 + offset;
                Rectangle::new([(x, 0.0), (x + 0.36, pick(t))], style)
            })
        };
        chart
            .draw_series(bars(-0.38, |t| t.group.counts.served_rps, served))
            .map_err(failed)?;
        chart
            .draw_series(bars(0.02, |t| t.fair_share_rps, fair))
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_put_the_tail_on_a_log_scale() {
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(nines(0.0), 0.0);
    }
}
