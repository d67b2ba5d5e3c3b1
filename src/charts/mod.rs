//! Charts as SVG, drawn with plotters from guarded results only.
//!
//! Every chart is a pure function: guarded figures in, an SVG document out. A figure the guard
//! hid is absent (a suppressed group has no scores at all), and a chart draws nothing for it —
//! at most a note that it is hidden. A response count is used only where the guard shows it.
//!
//! - [`quadrant`]: the policy's four zones, one point per group;
//! - [`anxieties`]: the four anxieties of one workplace beside the organisation's;
//! - [`trend`]: one dimension across waves; [`organisation_trends`]: every dimension;
//! - [`heatmap`]: groups × dimensions; [`job_level_heatmap`]: job-level cuts × dimensions.
//!
//! The browser draws the text: plotters' SVG backend writes `<text>` and the browser picks a
//! Japanese font. plotters' own width estimate counts bytes (three per kanji), so labels and
//! legends are placed here by [`text_width`], which counts a full-width character as one em.
//!
//! plotters cannot give an element a class, so every role has its own colour, a documented
//! public constant (for example [`POINT_FILL`]): tests and CSS find elements by it, as in
//! `circle[fill="#4E79A7"]`.

mod anxieties;
mod heatmap;
mod quadrant;
mod trend;

#[cfg(test)]
mod test_support;

use std::error::Error;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::aggregation::DimensionMeta;
use crate::i18n::{text, Lang};

pub use anxieties::{anxieties, ORGANISATION_BAR_FILL, WORKPLACE_BAR_FILL};
pub use heatmap::{
    drill_down_href, heatmap, job_level_heatmap, CONCERN_COLOUR, FAVOURABLE_COLOUR,
    SUPPRESSED_CELL_FILL,
};
pub use quadrant::{
    quadrant, quadrant_of_level, Others, QuadrantOptions, HIGHLIGHT_FILL,
    HIGHLIGHT_TRAJECTORY_COLOUR, LEADER_COLOUR, MUTED_POINT_FILL, ORGANISATION_FILL, POINT_FILL,
    TRAJECTORY_COLOUR,
};
pub use trend::{organisation_trends, trend, TREND_LINE_COLOUR, TREND_POINT_FILL};

type DrawResult = Result<(), Box<dyn Error>>;
type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;

const FONT_FAMILY: &str = "sans-serif";
const TEXT_COLOUR: RGBColor = RGBColor(0x33, 0x33, 0x33);
const NOTE_COLOUR: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// Draws a chart of `size` pixels on a white background. A drawing error is logged and
/// answered with a valid SVG that says so, so a page never shows a broken image.
fn render<F>(chart: &'static str, size: (u32, u32), lang: Lang, draw: F) -> String
where
    F: FnOnce(&Root<'_>) -> DrawResult,
{
    render_with_overlay(chart, size, lang, draw, "")
}

/// [`render`], with `overlay` (SVG markup plotters cannot write, such as links) added on top
/// of the drawing. A failed drawing gets the message alone, without the overlay.
fn render_with_overlay<F>(
    chart: &'static str,
    size: (u32, u32),
    lang: Lang,
    draw: F,
    overlay: &str,
) -> String
where
    F: FnOnce(&Root<'_>) -> DrawResult,
{
    let mut svg = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(Box::<dyn Error>::from)
            .and_then(|()| draw(&root))
            .and_then(|()| Ok(root.present()?))
    };
    match drawn {
        Ok(()) => match svg.rfind("</svg>") {
            Some(end) if !overlay.is_empty() => {
                svg.insert_str(end, overlay);
                svg
            }
            _ => svg,
        },
        Err(error) => {
            tracing::error!(chart, %error, "drawing a chart failed");
            message_svg(size, text(lang, "chart_failed"))
        }
    }
}

/// A chart-sized SVG holding one centred line of text: the answer when there is nothing to
/// draw, or drawing failed. Written by hand so it does not depend on what failed.
fn message_svg((width, height): (u32, u32), message: &str) -> String {
    let escaped = xml_escape(message);
    format!(
        r##"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>
<text x="{x}" y="{y}" text-anchor="middle" font-family="{FONT_FAMILY}" font-size="14" fill="#666666">{escaped}</text>
</svg>
"##,
        x = width / 2,
        y = height / 2,
    )
}

/// `text` with the five XML special characters escaped, for attributes and text of
/// hand-written SVG markup.
fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The separator between a total and its level in a row label ("組織全体・部"): typography,
/// not words, so it is not in the catalogue (which holds no blank entries).
fn name_separator(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "・",
        Lang::En => " · ",
    }
}

/// The separator between notes on one line (an ideographic space in Japanese).
fn notes_separator(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "\u{3000}",
        Lang::En => "  ·  ",
    }
}

fn dimension_name(dimension: &DimensionMeta, lang: Lang) -> &str {
    dimension.name(lang)
}

/// A font of `px` pixels as the browser will draw it: the SVG backend writes the size divided
/// by 1.24, so it is multiplied here.
fn font(px: f64) -> FontDesc<'static> {
    (FONT_FAMILY, px * 1.24).into_font()
}

fn text_style(px: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(px).color(&colour).pos(Pos::new(h, v))
}

fn bold_text_style(px: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(px)
        .style(FontStyle::Bold)
        .color(&colour)
        .pos(Pos::new(h, v))
}

/// Estimated width in pixels of `text` in a sans-serif font of `px` pixels: a full-width
/// character (kana, kanji, full-width punctuation) is one em, anything ASCII about 0.6 em.
fn text_width(text: &str, px: f64) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f64>()
        * px
}

/// `text`, cut and ended with "…" if it would be wider than `max_width` pixels.
fn fit_text(text: &str, px: f64, max_width: f64) -> String {
    if text_width(text, px) <= max_width {
        return text.to_string();
    }
    let budget = max_width - text_width("…", px);
    let mut fitted = String::new();
    for c in text.chars() {
        let mut longer = fitted.clone();
        longer.push(c);
        if text_width(&longer, px) > budget {
            break;
        }
        fitted = longer;
    }
    fitted.push('…');
    fitted
}

/// Packs notes into as few lines as fit `max_width` pixels, in order.
fn wrap_notes(notes: &[&str], separator: &str, px: f64, max_width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for note in notes {
        match lines.last_mut() {
            Some(line)
                if text_width(line, px) + text_width(separator, px) + text_width(note, px)
                    <= max_width =>
            {
                line.push_str(separator);
                line.push_str(note);
            }
            _ => lines.push((*note).to_string()),
        }
    }
    lines
}

/// Tick labels for the integer points of a scale, e.g. 1, 2, 3, 4, 5.
fn scale_tick_count(min: f64, max: f64) -> usize {
    ((max - min).round() as usize + 1).clamp(2, 11)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_text_counts_full_width() {
        assert_eq!(text_width("学習", 10.0), 20.0);
        assert_eq!(text_width("ab", 10.0), 12.0);
    }

    #[test]
    fn long_text_is_cut_to_the_width() {
        let fitted = fit_text("市民生活部市民課窓口係", 10.0, 50.0);
        assert!(fitted.ends_with('…'));
        assert!(text_width(&fitted, 10.0) <= 50.0);
        assert_eq!(fit_text("短い", 10.0, 50.0), "短い");
    }

    #[test]
    fn notes_wrap_when_too_wide() {
        let lines = wrap_notes(&["あああ", "いいい", "ううう"], "・", 10.0, 70.0);
        assert_eq!(lines, vec!["あああ・いいい", "ううう"]);
    }

    #[test]
    fn the_message_svg_is_well_formed_and_escaped() {
        let svg = message_svg((300, 200), "A & <B>");
        let document = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let text = document
            .descendants()
            .find(|node| node.has_tag_name("text"))
            .and_then(|node| node.text());
        assert_eq!(text, Some("A & <B>"));
    }
}
