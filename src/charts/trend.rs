//! One dimension's mean across waves: a line that breaks where a wave's figure is hidden;
//! and [`organisation_trends`], one such panel per dimension.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    bold_text_style, fit_text, font, message_svg, render, scale_tick_count, text_style, DrawResult,
    Root, NOTE_COLOUR, TEXT_COLOUR,
};
use crate::aggregation::views::DimensionTrend;
use crate::i18n::{text, Lang};

/// Stroke of the line between consecutive shown waves (`<polyline stroke="#4E79A7">`).
pub const TREND_LINE_COLOUR: RGBColor = RGBColor(0x4E, 0x79, 0xA7);
/// Fill of a shown wave's point (`<circle fill="#2F5D8A">`).
pub const TREND_POINT_FILL: RGBColor = RGBColor(0x2F, 0x5D, 0x8A);

const GRID_COLOUR: RGBColor = RGBColor(0xE0, 0xE0, 0xE0);
const SIZE: (u32, u32) = (720, 360);
const POINT_RADIUS: u32 = 5;
const WAVE_PX: f64 = 12.0;

/// `points` are (wave name, mean) oldest first, the mean `None` where the guard hid it: such a
/// wave gets no point and breaks the line. `scale` is the dimension's (min, max).
pub fn trend(
    points: &[(String, Option<f64>)],
    dimension_name: &str,
    scale: (u8, u8),
    lang: Lang,
) -> String {
    if points.is_empty() {
        return message_svg(SIZE, text(lang, "chart_no_data"));
    }
    if scale.0 >= scale.1 {
        return message_svg(SIZE, text(lang, "chart_bad_scale"));
    }
    let scale = (f64::from(scale.0), f64::from(scale.1));
    render("trend", SIZE, lang, |root| {
        draw(root, points, dimension_name, scale, lang)
    })
}

/// Size of one panel of [`organisation_trends`]; two panels side by side.
const PANEL: (u32, u32) = (360, 240);

/// The organisation's mean of every dimension across waves
/// ([`crate::aggregation::views::organisation_trends`]), one panel per dimension, two to a
/// row, each with the same breaks where a wave's figure is hidden.
pub fn organisation_trends(trends: &[DimensionTrend], lang: Lang) -> String {
    let drawable: Vec<&DimensionTrend> = trends
        .iter()
        .filter(|t| !t.points.is_empty() && t.dimension.scale_min < t.dimension.scale_max)
        .collect();
    if drawable.is_empty() {
        return message_svg(SIZE, text(lang, "chart_no_data"));
    }
    let rows = drawable.len().div_ceil(2) as u32;
    let size = (PANEL.0 * 2, PANEL.1 * rows);
    render("organisation trends", size, lang, |root| {
        let panels = root.split_evenly((rows as usize, 2));
        for (panel, trend) in panels.iter().zip(&drawable) {
            let meta = &trend.dimension;
            let name = meta.name(lang);
            let scale = (f64::from(meta.scale_min), f64::from(meta.scale_max));
            draw(panel, &trend.points, name, scale, lang)?;
        }
        Ok(())
    })
}

/// Runs of consecutive shown waves, as (wave index, mean): the line is drawn within a run only.
fn runs(points: &[(String, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for (index, (_, mean)) in points.iter().enumerate() {
        match mean.filter(|m| m.is_finite()) {
            Some(mean) => current.push((index as f64, mean)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn draw(
    root: &Root<'_>,
    points: &[(String, Option<f64>)],
    dimension_name: &str,
    (min, max): (f64, f64),
    lang: Lang,
) -> DrawResult {
    let width = root.dim_in_pixel().0;
    root.draw(&Text::new(
        fit_text(dimension_name, 15.0, f64::from(width) - 32.0),
        (16, 14),
        bold_text_style(15.0, TEXT_COLOUR, HPos::Left, VPos::Top),
    ))?;
    let waves = points.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin_top(44)
        .margin_right(32)
        .margin_left(8)
        .x_label_area_size(44)
        .y_label_area_size(44)
        .build_cartesian_2d(-0.5..waves - 0.5, min..max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(scale_tick_count(min, max))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .bold_line_style(GRID_COLOUR)
        .light_line_style(TRANSPARENT)
        .label_style(font(12.0).color(&TEXT_COLOUR))
        .draw()?;

    // Wave names are placed by hand under their points: plotters would pick its own ticks.
    let column_width = f64::from(width.saturating_sub(84)) / waves;
    let (_, y_pixels) = chart.plotting_area().get_pixel_range();
    for (index, (wave, mean)) in points.iter().enumerate() {
        let (x, _) = chart.backend_coord(&(index as f64, min));
        root.draw(&Text::new(
            fit_text(wave, WAVE_PX, column_width - 8.0),
            (x, y_pixels.end + 10),
            text_style(WAVE_PX, TEXT_COLOUR, HPos::Center, VPos::Top),
        ))?;
        if mean.filter(|m| m.is_finite()).is_none() {
            let (_, y) = chart.backend_coord(&(index as f64, (min + max) / 2.0));
            root.draw(&Text::new(
                text(lang, "chart_trend_hidden"),
                (x, y),
                text_style(11.0, NOTE_COLOUR, HPos::Center, VPos::Center),
            ))?;
        }
    }

    let runs = runs(points);
    for run in runs.iter().filter(|run| run.len() > 1) {
        chart.draw_series([PathElement::new(
            run.clone(),
            TREND_LINE_COLOUR.stroke_width(2),
        )])?;
    }
    for &(index, mean) in runs.iter().flatten() {
        let mean = mean.clamp(min, max);
        chart.draw_series([Circle::new(
            (index, mean),
            POINT_RADIUS,
            TREND_POINT_FILL.filled(),
        )])?;
        let (x, y) = chart.backend_coord(&(index, mean));
        root.draw(&Text::new(
            format!("{mean:.2}"),
            (x, y - 10),
            text_style(12.0, TEXT_COLOUR, HPos::Center, VPos::Bottom),
        ))?;
    }

    if points.iter().any(|(_, mean)| mean.is_none()) {
        root.draw(&Text::new(
            text(lang, "chart_trend_hidden_note"),
            (width as i32 - 32, 16),
            text_style(11.0, NOTE_COLOUR, HPos::Right, VPos::Top),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::test_support::*;

    fn waves(means: &[Option<f64>]) -> Vec<(String, Option<f64>)> {
        means
            .iter()
            .enumerate()
            .map(|(i, mean)| (format!("{}年度", 2022 + i), *mean))
            .collect()
    }

    #[test]
    fn hidden_waves_get_no_point_and_break_the_line() {
        let svg = trend(
            &waves(&[Some(3.2), None, Some(3.5)]),
            "心理的安全性",
            (1, 5),
            Lang::Ja,
        );
        let document = parse(&svg);
        assert_eq!(count(&document, "circle", "fill", TREND_POINT_FILL), 2);
        assert_eq!(count(&document, "polyline", "stroke", TREND_LINE_COLOUR), 0);
        assert!(has_text(&document, "非表示"));
        assert!(has_text(&document, "2023年度"));
        assert!(has_text(&document, "3.20"));
    }

    #[test]
    fn consecutive_shown_waves_are_joined() {
        let svg = trend(
            &waves(&[Some(3.2), Some(3.4), None, Some(3.5)]),
            "Psychological safety",
            (1, 5),
            Lang::En,
        );
        let document = parse(&svg);
        assert_eq!(count(&document, "circle", "fill", TREND_POINT_FILL), 3);
        let lines: Vec<_> = document
            .descendants()
            .filter(|n| {
                n.has_tag_name("polyline")
                    && n.attribute("stroke") == Some(hex(TREND_LINE_COLOUR).as_str())
            })
            .collect();
        assert_eq!(lines.len(), 1);
        let joined = lines[0].attribute("points").unwrap_or_default();
        assert_eq!(joined.split_whitespace().count(), 2);
        assert!(has_text(&document, "hidden: too few respondents"));
    }

    #[test]
    fn the_organisation_trend_has_a_panel_per_dimension() {
        let results = wave();
        let trends: Vec<DimensionTrend> = results
            .dimensions
            .iter()
            .map(|dimension| DimensionTrend {
                dimension: dimension.clone(),
                points: waves(&[Some(3.2), None, Some(3.5)]),
            })
            .collect();
        let svg = organisation_trends(&trends, Lang::Ja);
        let document = parse(&svg);
        let panels = trends.len();
        assert_eq!(
            count(&document, "circle", "fill", TREND_POINT_FILL),
            2 * panels
        );
        for dimension in &results.dimensions {
            assert!(
                has_text(&document, &dimension.name_ja),
                "{}",
                dimension.name_ja
            );
        }
        let height: u32 = document
            .root_element()
            .attribute("height")
            .and_then(|h| h.parse().ok())
            .expect("a height");
        assert_eq!(height, PANEL.1 * panels.div_ceil(2) as u32);
        let empty = organisation_trends(&[], Lang::En);
        assert!(has_text(&parse(&empty), "No data"));
    }

    #[test]
    fn runs_split_at_hidden_waves() {
        let runs = runs(&waves(&[None, Some(3.0), Some(3.1), None, Some(3.3)]));
        assert_eq!(runs, vec![vec![(1.0, 3.0), (2.0, 3.1)], vec![(4.0, 3.3)]]);
    }

    #[test]
    fn nothing_to_draw_is_a_message() {
        let document_svg = trend(&[], "心理的安全性", (1, 5), Lang::Ja);
        let document = parse(&document_svg);
        assert!(has_text(&document, "データがありません"));
    }
}
