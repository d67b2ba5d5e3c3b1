//! The four anxieties (無知・無能・邪魔・ネガティブだと思われる不安) of one workplace beside the
//! organisation's: two horizontal bars per anxiety, higher meaning more anxiety.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    dimension_name, fit_text, font, message_svg, render, scale_tick_count, text_style, text_width,
    DrawResult, Root, NOTE_COLOUR, TEXT_COLOUR,
};
use crate::aggregation::{DimensionMeta, GroupLevel, GroupResult, WaveResults};
use crate::i18n::{text, Lang};

/// Fill of the workplace's bars (`<rect fill="#D9480F">`).
pub const WORKPLACE_BAR_FILL: RGBColor = RGBColor(0xD9, 0x48, 0x0F);
/// Fill of the organisation's bars (`<rect fill="#8C9AAB">`).
pub const ORGANISATION_BAR_FILL: RGBColor = RGBColor(0x8C, 0x9A, 0xAB);

const GRID_COLOUR: RGBColor = RGBColor(0xE0, 0xE0, 0xE0);
const WIDTH: u32 = 720;
const HEADER_HEIGHT: u32 = 44;
const ROW_HEIGHT: u32 = 64;
const AXIS_HEIGHT: u32 = 52;
const NAME_PX: f64 = 13.0;
const VALUE_PX: f64 = 12.0;

/// The anxieties of `workplace` (a workplace code) beside the organisation's, as an SVG 720
/// pixels wide. A hidden cell has no bar, only a note that it is hidden.
pub fn anxieties(results: &WaveResults, workplace: &str, lang: Lang) -> String {
    let dimensions: Vec<&DimensionMeta> = results
        .dimensions
        .iter()
        .filter(|d| d.id.starts_with("anxiety_"))
        .collect();
    let rows = u32::try_from(dimensions.len()).unwrap_or(u32::MAX);
    let size = (
        WIDTH,
        HEADER_HEIGHT + rows.saturating_mul(ROW_HEIGHT) + AXIS_HEIGHT,
    );
    let scale_min = dimensions.iter().map(|d| d.scale_min).min();
    let scale_max = dimensions.iter().map(|d| d.scale_max).max();
    let (Some(scale_min), Some(scale_max)) = (scale_min, scale_max) else {
        return message_svg(size, text(lang, "chart_no_anxiety_scales"));
    };
    if scale_min >= scale_max {
        return message_svg(size, text(lang, "chart_bad_scale"));
    }
    let chart = Anxieties {
        lang,
        dimensions,
        scale: (f64::from(scale_min), f64::from(scale_max)),
        workplace: results.groups.iter().find(|g| {
            matches!(g.level, GroupLevel::Workplace | GroupLevel::ReportingUnit)
                && g.workplace.as_deref() == Some(workplace)
        }),
        organisation: results
            .groups
            .iter()
            .find(|g| g.level == GroupLevel::Organisation),
    };
    render("anxieties", size, lang, |root| chart.draw(root))
}

struct Anxieties<'a> {
    lang: Lang,
    dimensions: Vec<&'a DimensionMeta>,
    scale: (f64, f64),
    workplace: Option<&'a GroupResult>,
    organisation: Option<&'a GroupResult>,
}

impl Anxieties<'_> {
    fn draw(&self, root: &Root<'_>) -> DrawResult {
        let lang = self.lang;
        let (min, max) = self.scale;
        let rows = self.dimensions.len() as f64;
        let names_width = self
            .dimensions
            .iter()
            .map(|d| text_width(dimension_name(d, lang), NAME_PX))
            .fold(0.0, f64::max);
        let names_area = (names_width + 24.0).clamp(120.0, 300.0);

        let mut chart = ChartBuilder::on(root)
            .margin_top(HEADER_HEIGHT)
            .margin_right(72)
            .x_label_area_size(AXIS_HEIGHT - 8)
            .y_label_area_size(names_area)
            .build_cartesian_2d(min..max, 0.0..rows)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(scale_tick_count(min, max))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .bold_line_style(GRID_COLOUR)
            .light_line_style(TRANSPARENT)
            .label_style(font(12.0).color(&TEXT_COLOUR))
            .axis_desc_style(font(12.0).color(&TEXT_COLOUR))
            .x_desc(text(lang, "chart_anxiety_axis"))
            .draw()?;

        let (x_pixels, _) = chart.plotting_area().get_pixel_range();
        let bars = [
            (self.workplace, WORKPLACE_BAR_FILL, 0.2),
            (self.organisation, ORGANISATION_BAR_FILL, -0.2),
        ];
        for (row, dimension) in self.dimensions.iter().enumerate() {
            // The first anxiety on top: rows count down from the top of the axis.
            let centre = rows - row as f64 - 0.5;
            let (_, name_y) = chart.backend_coord(&(min, centre));
            root.draw(&Text::new(
                fit_text(dimension_name(dimension, lang), NAME_PX, names_area - 16.0),
                (x_pixels.start - 10, name_y),
                text_style(NAME_PX, TEXT_COLOUR, HPos::Right, VPos::Center),
            ))?;
            for (group, fill, offset) in bars {
                let bar_centre = centre + offset;
                let mean = group
                    .filter(|g| !g.suppressed)
                    .and_then(|g| g.scores.get(&dimension.id))
                    .map(|score| score.mean)
                    .filter(|mean| mean.is_finite());
                let Some(mean) = mean else {
                    let (x, y) = chart.backend_coord(&(min, bar_centre));
                    root.draw(&Text::new(
                        text(lang, "chart_hidden_too_few"),
                        (x + 6, y),
                        text_style(11.0, NOTE_COLOUR, HPos::Left, VPos::Center),
                    ))?;
                    continue;
                };
                let mean = mean.clamp(min, max);
                chart.draw_series([Rectangle::new(
                    [(min, bar_centre - 0.16), (mean, bar_centre + 0.16)],
                    fill.filled(),
                )])?;
                let (x, y) = chart.backend_coord(&(mean, bar_centre));
                root.draw(&Text::new(
                    format!("{mean:.2}"),
                    (x + 6, y),
                    text_style(VALUE_PX, TEXT_COLOUR, HPos::Left, VPos::Center),
                ))?;
            }
        }
        self.draw_legend(root, x_pixels.start)
    }

    /// Coloured squares as text, so that counting bars by colour counts bars only.
    fn draw_legend(&self, root: &Root<'_>, left: i32) -> DrawResult {
        const PX: f64 = 13.0;
        let workplace_name = self
            .workplace
            .map_or(text(self.lang, "chart_this_workplace"), |g| g.name.as_str());
        let entries = [
            (fit_text(workplace_name, PX, 240.0), WORKPLACE_BAR_FILL),
            (
                text(self.lang, "chart_organisation").to_string(),
                ORGANISATION_BAR_FILL,
            ),
        ];
        let mut x = f64::from(left);
        for (name, colour) in entries {
            root.draw(&Text::new(
                "■",
                (x as i32, 18),
                text_style(PX, colour, HPos::Left, VPos::Center),
            ))?;
            x += PX + 6.0;
            root.draw(&Text::new(
                name.as_str(),
                (x as i32, 18),
                text_style(PX, TEXT_COLOUR, HPos::Left, VPos::Center),
            ))?;
            x += text_width(&name, PX) + 24.0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::test_support::*;

    fn bars(document: &roxmltree::Document, fill: RGBColor) -> usize {
        count(document, "rect", "fill", fill)
    }

    #[test]
    fn a_shown_workplace_has_four_bars_beside_the_organisations() {
        let svg = anxieties(&wave(), LEARNING, Lang::Ja);
        let document = parse(&svg);
        assert_eq!(bars(&document, WORKPLACE_BAR_FILL), 4);
        assert_eq!(bars(&document, ORGANISATION_BAR_FILL), 4);
        assert!(!has_text(&document, "非表示"));
        for name in [
            "無知だと思われる不安",
            "無能だと思われる不安",
            "邪魔をしていると思われる不安",
            "ネガティブだと思われる不安",
        ] {
            assert!(has_text(&document, name), "{name} missing");
        }
        assert!(has_text(&document, "2.00"));
    }

    #[test]
    fn a_suppressed_workplace_has_no_bars_only_notes() {
        let svg = anxieties(&wave(), SUPPRESSED, Lang::Ja);
        let document = parse(&svg);
        assert_eq!(bars(&document, WORKPLACE_BAR_FILL), 0);
        assert_eq!(bars(&document, ORGANISATION_BAR_FILL), 4);
        let notes = texts(&document)
            .iter()
            .filter(|t| t.as_str() == "非表示（回答者が少ないため）")
            .count();
        assert_eq!(notes, 4);
    }

    #[test]
    fn a_hidden_cell_is_noted_in_english_too() {
        let svg = anxieties(&wave(), APATHY, Lang::En);
        let document = parse(&svg);
        assert_eq!(bars(&document, WORKPLACE_BAR_FILL), 3);
        assert!(has_text(&document, "hidden (too few respondents)"));
        assert!(has_text(&document, "Anxiety about seeming negative"));
    }
}
