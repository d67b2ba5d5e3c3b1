//! The policy's quadrant (第4章): psychological safety across, the high-standards climate up,
//! cut into Edmondson's four zones at `results.cut`, one point per group.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    bold_text_style, dimension_name, fit_text, font, message_svg, notes_separator, render,
    scale_tick_count, text_style, text_width, wrap_notes, DrawResult, Root, NOTE_COLOUR,
    TEXT_COLOUR,
};
use crate::aggregation::guard::HiddenReason;
use crate::aggregation::{DimensionMeta, DimensionScore, GroupLevel, QuadrantAxis, WaveResults};
use crate::i18n::{text, text_with, Lang};

/// Fill of a group's point (`<circle fill="#4E79A7">`) when the other groups are labelled.
pub const POINT_FILL: RGBColor = RGBColor(0x4E, 0x79, 0xA7);
/// Fill of the other groups' points (`<circle fill="#A6A6A6">`) in [`Others::Unlabelled`] mode.
pub const MUTED_POINT_FILL: RGBColor = RGBColor(0xA6, 0xA6, 0xA6);
/// Fill of the highlighted group's point (`<circle fill="#D9480F">`).
pub const HIGHLIGHT_FILL: RGBColor = RGBColor(0xD9, 0x48, 0x0F);
/// Fill of the organisation's diamond (`<polygon fill="#222222">`).
pub const ORGANISATION_FILL: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// A trajectory: the line's stroke and its arrowhead's fill (`<polygon fill="#5A6B7F">`).
pub const TRAJECTORY_COLOUR: RGBColor = RGBColor(0x5A, 0x6B, 0x7F);
/// The highlighted group's trajectory (`<polygon fill="#9C3109">` for its arrowhead).
pub const HIGHLIGHT_TRAJECTORY_COLOUR: RGBColor = RGBColor(0x9C, 0x31, 0x09);

const CUT_LINE_COLOUR: RGBColor = RGBColor(0x80, 0x80, 0x80);

const SIZE: (u32, u32) = (720, 600);
/// The narrowest the chart is shown: a 360 px phone screen. Every text size below is the size
/// on that screen times this factor, so that at 360 px no text is under 9 px and the names
/// of groups are 10 px.
const PHONE_SCALE: f64 = SIZE.0 as f64 / 360.0;
/// Room under the plot for up to three lines of notes.
const NOTES_HEIGHT: u32 = 84;
const NOTE_PX: f64 = 9.0 * PHONE_SCALE;
const LABEL_PX: f64 = 10.0 * PHONE_SCALE;
/// The smallest a label shrinks to before it is abbreviated.
const MIN_LABEL_PX: f64 = 9.0 * PHONE_SCALE;
const TICK_PX: f64 = 10.5 * PHONE_SCALE;
const AXIS_TITLE_PX: f64 = 11.0 * PHONE_SCALE;
const ZONE_NAME_PX: f64 = 12.0 * PHONE_SCALE;
const ZONE_OTHER_NAME_PX: f64 = 9.0 * PHONE_SCALE;
const LABEL_MAX_WIDTH: f64 = 240.0;
/// The thin line from a point to a label placed away from it (`<polyline stroke="#9A9A9A">`).
pub const LEADER_COLOUR: RGBColor = RGBColor(0x9A, 0x9A, 0x9A);
/// A point's radius when its response count is not shown.
const DEFAULT_RADIUS: i32 = 7;
const MIN_RADIUS: i32 = 5;
const MAX_RADIUS: i32 = 14;
const ORGANISATION_HALF_SIZE: i32 = 9;
const ARROW_HEAD_LENGTH: f64 = 9.0;
const ARROW_HEAD_HALF_WIDTH: f64 = 4.5;
/// Opacity of an arrow whose change is within chance on both axes.
const FAINT_ARROW_OPACITY: f64 = 0.45;

/// What the quadrant shows besides the organisation and the highlighted group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Others {
    /// Every group, named, with its trajectory.
    #[default]
    Labelled,
    /// Every group as an unnamed grey point, without trajectories.
    Unlabelled,
    /// No other group.
    Hidden,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuadrantOptions {
    pub lang: Lang,
    /// The workplace code of the group to stand out (strong colour, named, drawn on top).
    pub highlight: Option<String>,
    pub others: Others,
}

struct ZoneSpec {
    /// The zone's name in the message catalogue.
    key: &'static str,
    shade: RGBColor,
    high_x: bool,
    high_y: bool,
}

const ZONES: [ZoneSpec; 4] = [
    ZoneSpec {
        key: "chart_zone_learning",
        shade: RGBColor(0xE4, 0xF2, 0xE0),
        high_x: true,
        high_y: true,
    },
    ZoneSpec {
        key: "chart_zone_comfort",
        shade: RGBColor(0xE3, 0xED, 0xF7),
        high_x: true,
        high_y: false,
    },
    ZoneSpec {
        key: "chart_zone_anxiety",
        shade: RGBColor(0xFB, 0xE8, 0xDA),
        high_x: false,
        high_y: true,
    },
    ZoneSpec {
        key: "chart_zone_apathy",
        shade: RGBColor(0xEE, 0xEE, 0xEE),
        high_x: false,
        high_y: false,
    },
];

/// A group's part in the chart; the order is the drawing order, so later roles lie on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Muted,
    Other,
    Organisation,
    Highlight,
}

impl Role {
    fn fill(self) -> RGBColor {
        match self {
            Role::Muted => MUTED_POINT_FILL,
            Role::Other => POINT_FILL,
            Role::Organisation => ORGANISATION_FILL,
            Role::Highlight => HIGHLIGHT_FILL,
        }
    }

    fn trajectory_colour(self) -> RGBColor {
        match self {
            Role::Highlight => HIGHLIGHT_TRAJECTORY_COLOUR,
            _ => TRAJECTORY_COLOUR,
        }
    }
}

/// A group to draw, with the figures it needs.
struct Marker<'a> {
    role: Role,
    label: Option<&'a str>,
    x: &'a DimensionScore,
    y: &'a DimensionScore,
    n: Option<u32>,
    with_trajectory: bool,
}

/// The quadrant of one wave as an SVG of 720×600.
///
/// Draws every group that is neither a job-level cut nor suppressed and has both axis
/// scores; the organisation as a diamond. A group without those scores is never drawn: if it
/// is the highlighted one, a note says it is hidden.
pub fn quadrant(results: &WaveResults, options: &QuadrantOptions) -> String {
    draw_quadrant(results, options, None)
}

/// The quadrant with the groups of one level of the organisation only (1 = 部, 2 = 課,
/// 3 = 係: [`WaveResults::unit_levels`]), besides the organisation and the highlighted group,
/// so that departments are not compared with teams in one picture. A level without any
/// shown group draws the organisation alone.
pub fn quadrant_of_level(results: &WaveResults, options: &QuadrantOptions, level: u32) -> String {
    draw_quadrant(results, options, Some(level))
}

fn draw_quadrant(results: &WaveResults, options: &QuadrantOptions, level: Option<u32>) -> String {
    let lang = options.lang;
    let (Some(x_axis), Some(y_axis)) = (
        axis(results, QuadrantAxis::X),
        axis(results, QuadrantAxis::Y),
    ) else {
        return message_svg(SIZE, text(lang, "chart_no_quadrant_axes"));
    };
    let markers = markers(results, options, level, &x_axis.id, &y_axis.id);
    let highlight_hidden = options
        .highlight
        .as_deref()
        .filter(|_| !markers.iter().any(|m| m.role == Role::Highlight))
        .and_then(|code| {
            results
                .groups
                .iter()
                .find(|g| g.level != GroupLevel::JobLevel && g.workplace.as_deref() == Some(code))
        })
        .map(|group| hidden_note(group.hidden_reason, lang));
    let chart = Quadrant {
        results,
        lang,
        x_axis,
        y_axis,
        markers,
        highlight_hidden,
    };
    render("quadrant", SIZE, lang, |root| chart.draw(root))
}

/// Why the highlighted group is not drawn, in words that fit the case.
fn hidden_note(reason: Option<HiddenReason>, lang: Lang) -> &'static str {
    match reason {
        Some(HiddenReason::ProtectsSmallerGroup) => text(lang, "chart_selected_hidden_protects"),
        Some(HiddenReason::TooFewResponses) => text(lang, "chart_selected_hidden_too_few"),
        Some(HiddenReason::TotalHidden | HiddenReason::TooFewOrProtectsSmallerGroup) | None => {
            text(lang, "chart_selected_hidden_identifiable")
        }
    }
}

fn axis(results: &WaveResults, axis: QuadrantAxis) -> Option<&DimensionMeta> {
    results
        .dimensions
        .iter()
        .find(|d| d.quadrant_axis == Some(axis) && d.scale_min < d.scale_max)
}

fn markers<'a>(
    results: &'a WaveResults,
    options: &QuadrantOptions,
    level: Option<u32>,
    x_id: &str,
    y_id: &str,
) -> Vec<Marker<'a>> {
    let levels = results.unit_levels();
    let mut markers: Vec<Marker<'a>> = results
        .groups
        .iter()
        .filter(|g| !g.suppressed && g.level != GroupLevel::JobLevel)
        .filter(|g| {
            let at_level = || {
                g.workplace
                    .as_deref()
                    .and_then(|code| levels.get(code))
                    .is_some_and(|&l| Some(l) == level)
            };
            level.is_none()
                || g.level == GroupLevel::Organisation
                || at_level()
                || (options.highlight.is_some() && g.workplace == options.highlight)
        })
        .filter_map(|group| {
            let x = group.scores.get(x_id)?;
            let y = group.scores.get(y_id)?;
            if !(x.mean.is_finite() && y.mean.is_finite()) {
                return None;
            }
            let highlighted = group.level != GroupLevel::Organisation
                && options.highlight.is_some()
                && group.workplace == options.highlight;
            let role = match (group.level, highlighted, options.others) {
                (GroupLevel::Organisation, _, _) => Role::Organisation,
                (_, true, _) => Role::Highlight,
                (_, false, Others::Labelled) => Role::Other,
                (_, false, Others::Unlabelled) => Role::Muted,
                (_, false, Others::Hidden) => return None,
            };
            let label = match role {
                Role::Organisation => Some(text(options.lang, "chart_organisation")),
                Role::Muted => None,
                Role::Other | Role::Highlight => Some(group.name.as_str()),
            };
            Some(Marker {
                role,
                label,
                x,
                y,
                n: group.n,
                with_trajectory: role == Role::Highlight || options.others == Others::Labelled,
            })
        })
        .collect();
    markers.sort_by_key(|m| m.role);
    markers
}

/// Radius of a group's point: grows with the square root of the response count where it is
/// shown, within limits so that neither a tiny nor a huge group dominates.
fn radius(n: Option<u32>) -> i32 {
    n.map_or(DEFAULT_RADIUS, |n| {
        (3.0 + f64::from(n).sqrt())
            .round()
            .clamp(f64::from(MIN_RADIUS), f64::from(MAX_RADIUS)) as i32
    })
}

/// Where a group stood in the previous wave, when both axes were shown then, and whether the
/// move is beyond chance on either axis.
fn previous_position(x: &DimensionScore, y: &DimensionScore) -> Option<((f64, f64), bool)> {
    let (x_change, y_change) = (x.change?, y.change?);
    Some((
        (x_change.previous_mean, y_change.previous_mean),
        x_change.real || y_change.real,
    ))
}

type Pixel = (i32, i32);

struct Arrow {
    shaft: [Pixel; 2],
    head: [Pixel; 3],
}

/// An arrow from `from` that stops at the edge of the point at `to`; none when the move is
/// too short to show beside the point.
fn arrow(from: Pixel, to: Pixel, radius: i32) -> Option<Arrow> {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let length = dx.hypot(dy);
    let stop = f64::from(radius) + 1.0;
    if length <= stop + ARROW_HEAD_LENGTH {
        return None;
    }
    let (ux, uy) = (dx / length, dy / length);
    let tip = (f64::from(to.0) - ux * stop, f64::from(to.1) - uy * stop);
    let base = (
        tip.0 - ux * ARROW_HEAD_LENGTH,
        tip.1 - uy * ARROW_HEAD_LENGTH,
    );
    let wing = (-uy * ARROW_HEAD_HALF_WIDTH, ux * ARROW_HEAD_HALF_WIDTH);
    let pixel = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    Some(Arrow {
        shaft: [from, pixel(base)],
        head: [
            pixel(tip),
            pixel((base.0 + wing.0, base.1 + wing.1)),
            pixel((base.0 - wing.0, base.1 - wing.1)),
        ],
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Bounds {
    fn around((x, y): Pixel, half_size: i32) -> Bounds {
        let (x, y, half) = (f64::from(x), f64::from(y), f64::from(half_size));
        Bounds {
            left: x - half,
            top: y - half,
            right: x + half,
            bottom: y + half,
        }
    }

    fn at(left: f64, top: f64, (width, height): (f64, f64)) -> Bounds {
        // Whole pixels: the text is drawn at whole pixels, so its box is exactly this one.
        let (left, top) = (left.round(), top.round());
        Bounds {
            left,
            top,
            right: left + width,
            bottom: top + height,
        }
    }

    #[cfg(test)]
    fn overlaps(&self, other: &Bounds) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }

    /// Overlaps `other` or comes closer to it than [`LABEL_CLEARANCE`].
    fn crowds(&self, other: &Bounds) -> bool {
        self.left < other.right + LABEL_CLEARANCE
            && other.left < self.right + LABEL_CLEARANCE
            && self.top < other.bottom + LABEL_CLEARANCE
            && other.top < self.bottom + LABEL_CLEARANCE
    }

    fn within(&self, outer: &Bounds) -> bool {
        self.left >= outer.left
            && self.right <= outer.right
            && self.top >= outer.top
            && self.bottom <= outer.bottom
    }

    /// The point of the box nearest to `(x, y)`.
    fn nearest_to(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (
            x.clamp(self.left, self.right),
            y.clamp(self.top, self.bottom),
        )
    }
}

/// The least room between two labels, or a label and another mark.
const LABEL_CLEARANCE: f64 = 2.0;
/// How far out (in label heights) labels are tried around their point before anywhere else.
const LABEL_RINGS: usize = 6;

/// A label's place: its box (the text is drawn from its top left corner), the text (maybe
/// abbreviated), its size, and a leader line when it stands away from its point.
#[derive(Debug, Clone, PartialEq)]
struct LabelSpot {
    bounds: Bounds,
    text: String,
    px: f64,
    leader: Option<[Pixel; 2]>,
}

/// A label's size and weight.
#[derive(Debug, Clone, Copy)]
struct LabelFont {
    px: f64,
    bold: bool,
}

/// The box of a label of `px` pixels: the text plus one pixel above and below; bold text
/// runs about a tenth wider than the estimate.
fn label_size(text: &str, px: f64, bold: bool) -> (f64, f64) {
    let width = text_width(text, px) * if bold { 1.1 } else { 1.0 };
    (width.ceil(), px + 2.0)
}

/// Boxes for a label around its point, nearest first: the eight places beside the point,
/// then rings further out in sixteen directions (these need a leader line).
fn label_candidates(point: Pixel, radius: i32, size: (f64, f64)) -> Vec<Bounds> {
    let (x, y) = (f64::from(point.0), f64::from(point.1));
    let (width, height) = size;
    let gap = f64::from(radius) + 3.0;
    let diagonal = gap * std::f64::consts::FRAC_1_SQRT_2;
    let mut candidates = vec![
        Bounds::at(x + gap, y - height / 2.0, size),
        Bounds::at(x - gap - width, y - height / 2.0, size),
        Bounds::at(x - width / 2.0, y - gap - height, size),
        Bounds::at(x - width / 2.0, y + gap, size),
        Bounds::at(x + diagonal, y - diagonal - height, size),
        Bounds::at(x - diagonal - width, y - diagonal - height, size),
        Bounds::at(x + diagonal, y + diagonal, size),
        Bounds::at(x - diagonal - width, y + diagonal, size),
    ];
    for ring in 1..=LABEL_RINGS {
        let distance = gap + ring as f64 * height;
        for step in 0..16 {
            let angle = f64::from(step) * std::f64::consts::PI / 8.0;
            let (cos, sin) = (angle.cos(), angle.sin());
            let (ax, ay) = (x + cos * distance, y + sin * distance);
            let left = match cos {
                c if c > 0.3 => ax,
                c if c < -0.3 => ax - width,
                _ => ax - width / 2.0,
            };
            let top = match sin {
                s if s > 0.3 => ay,
                s if s < -0.3 => ay - height,
                _ => ay - height / 2.0,
            };
            candidates.push(Bounds::at(left, top, size));
        }
    }
    candidates
}

/// A label's text at the sizes it may take, largest first: whole at its size, whole at the
/// smallest size, then abbreviated to two thirds and to a third of its width.
fn label_versions(label: &str, px: f64) -> Vec<(String, f64)> {
    let small = MIN_LABEL_PX.min(px);
    let whole = fit_text(label, small, LABEL_MAX_WIDTH);
    let width = text_width(&whole, small);
    let mut versions = vec![(fit_text(label, px, LABEL_MAX_WIDTH), px)];
    for (text, size) in [
        (whole, small),
        (fit_text(label, small, width * 2.0 / 3.0), small),
        (
            fit_text(label, small, (width / 3.0).max(small * 3.0)),
            small,
        ),
    ] {
        if !versions.contains(&(text.clone(), size)) {
            versions.push((text, size));
        }
    }
    versions
}

/// Places a label inside `plot` and clear of everything in `taken`: beside its point if it
/// can, else further out with a leader line; failing that smaller, then abbreviated; and
/// last anywhere free in the plot, nearest its point first. `None` only when the plot has no
/// room left for even the shortest form.
fn place_label(
    point: Pixel,
    radius: i32,
    label: &str,
    font: LabelFont,
    plot: &Bounds,
    taken: &[Bounds],
) -> Option<LabelSpot> {
    let free = |spot: &Bounds| spot.within(plot) && !taken.iter().any(|t| t.crowds(spot));
    let versions = label_versions(label, font.px);
    let nearby = versions.iter().find_map(|(text, size)| {
        label_candidates(point, radius, label_size(text, *size, font.bold))
            .into_iter()
            .enumerate()
            .find(|(_, spot)| free(spot))
            .map(|(index, spot)| (text, *size, spot, index >= 8))
    });
    let (text, size, spot, away) = nearby.or_else(|| {
        let (text, size) = versions.last()?;
        let dimensions = label_size(text, *size, font.bold);
        let centre = (f64::from(point.0), f64::from(point.1));
        let mut best: Option<(f64, Bounds)> = None;
        let mut top = plot.top;
        while top + dimensions.1 <= plot.bottom {
            let mut left = plot.left;
            while left + dimensions.0 <= plot.right {
                let spot = Bounds::at(left, top, dimensions);
                if free(&spot) {
                    let (nx, ny) = spot.nearest_to(centre);
                    let distance = (nx - centre.0).hypot(ny - centre.1);
                    if best.is_none_or(|(d, _)| distance < d) {
                        best = Some((distance, spot));
                    }
                }
                left += 4.0;
            }
            top += 4.0;
        }
        best.map(|(_, spot)| (text, *size, spot, true))
    })?;
    Some(LabelSpot {
        bounds: spot,
        text: text.clone(),
        px: size,
        leader: away.then(|| leader(point, radius, &spot)).flatten(),
    })
}

/// A thin line from the edge of a point to the nearest point of its label's box; none when
/// the label touches the point anyway.
fn leader(point: Pixel, radius: i32, label: &Bounds) -> Option<[Pixel; 2]> {
    let centre = (f64::from(point.0), f64::from(point.1));
    let (nx, ny) = label.nearest_to(centre);
    let (dx, dy) = (nx - centre.0, ny - centre.1);
    let length = dx.hypot(dy);
    let start = f64::from(radius) + 1.0;
    if length <= start + 3.0 {
        return None;
    }
    let from = (
        (centre.0 + dx / length * start).round() as i32,
        (centre.1 + dy / length * start).round() as i32,
    );
    Some([from, (nx.round() as i32, ny.round() as i32)])
}

/// The boxes of the zones' names (in [`ZONES`] order), in the plot's outer corners; labels
/// keep clear of them.
fn zone_name_places(lang: Lang, plot: &Bounds) -> Vec<Bounds> {
    const INSET: f64 = 8.0;
    let height = ZONE_NAME_PX + 3.0 + ZONE_OTHER_NAME_PX + 2.0;
    ZONES
        .iter()
        .map(|zone| {
            let (main, other) = (text(lang, zone.key), text(lang.other(), zone.key));
            // Bold text runs a little wider than the estimate.
            let width =
                (text_width(main, ZONE_NAME_PX) * 1.1).max(text_width(other, ZONE_OTHER_NAME_PX));
            let left = if zone.high_x {
                plot.right - INSET - width
            } else {
                plot.left + INSET
            };
            let top = if zone.high_y {
                plot.top + INSET
            } else {
                plot.bottom - INSET - height
            };
            Bounds {
                left,
                top,
                right: left + width,
                bottom: top + height,
            }
        })
        .collect()
}

struct Quadrant<'a> {
    results: &'a WaveResults,
    lang: Lang,
    x_axis: &'a DimensionMeta,
    y_axis: &'a DimensionMeta,
    markers: Vec<Marker<'a>>,
    /// The note that the highlighted group is hidden, and why.
    highlight_hidden: Option<&'static str>,
}

/// A marker's place in pixels.
struct Placed {
    centre: Pixel,
    radius: i32,
    arrow: Option<(Arrow, bool)>,
}

impl Quadrant<'_> {
    fn draw(&self, root: &Root<'_>) -> DrawResult {
        let lang = self.lang;
        let x_range = (
            f64::from(self.x_axis.scale_min),
            f64::from(self.x_axis.scale_max),
        );
        let y_range = (
            f64::from(self.y_axis.scale_min),
            f64::from(self.y_axis.scale_max),
        );
        let cut = (
            self.results.cut.x.clamp(x_range.0, x_range.1),
            self.results.cut.y.clamp(y_range.0, y_range.1),
        );

        let (plot_area, notes_area) = root.split_vertically(SIZE.1 - NOTES_HEIGHT);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_top(12)
            .margin_right(24)
            .margin_left(8)
            .x_label_area_size((TICK_PX + AXIS_TITLE_PX + 28.0) as u32)
            .y_label_area_size((TICK_PX * 1.2 + AXIS_TITLE_PX + 28.0) as u32)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;

        chart.draw_series(ZONES.iter().map(|zone| {
            let (x0, x1) = if zone.high_x {
                (cut.0, x_range.1)
            } else {
                (x_range.0, cut.0)
            };
            let (y0, y1) = if zone.high_y {
                (cut.1, y_range.1)
            } else {
                (y_range.0, cut.1)
            };
            Rectangle::new([(x0, y0), (x1, y1)], zone.shade.filled())
        }))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(scale_tick_count(x_range.0, x_range.1))
            .y_labels(scale_tick_count(y_range.0, y_range.1))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font(TICK_PX).color(&TEXT_COLOUR))
            .axis_desc_style(font(AXIS_TITLE_PX).color(&TEXT_COLOUR))
            .x_desc(dimension_name(self.x_axis, lang))
            .y_desc(dimension_name(self.y_axis, lang))
            .draw()?;
        chart.draw_series([
            PathElement::new(
                vec![(cut.0, y_range.0), (cut.0, y_range.1)],
                CUT_LINE_COLOUR.stroke_width(1),
            ),
            PathElement::new(
                vec![(x_range.0, cut.1), (x_range.1, cut.1)],
                CUT_LINE_COLOUR.stroke_width(1),
            ),
        ])?;

        let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
        let plot = Bounds {
            left: f64::from(x_pixels.start),
            top: f64::from(y_pixels.start),
            right: f64::from(x_pixels.end),
            bottom: f64::from(y_pixels.end),
        };
        self.draw_zone_names(root, &plot)?;

        let to_pixel = |x: f64, y: f64| chart.backend_coord(&(x, y));
        let placed: Vec<Placed> = self
            .markers
            .iter()
            .map(|marker| {
                let centre = to_pixel(marker.x.mean, marker.y.mean);
                let radius = match marker.role {
                    Role::Organisation => ORGANISATION_HALF_SIZE,
                    _ => radius(marker.n),
                };
                let arrow = previous_position(marker.x, marker.y)
                    .filter(|_| marker.with_trajectory)
                    .and_then(|((x, y), real)| {
                        arrow(to_pixel(x, y), centre, radius).map(|a| (a, real))
                    });
                Placed {
                    centre,
                    radius,
                    arrow,
                }
            })
            .collect();

        for (marker, place) in self.markers.iter().zip(&placed) {
            self.draw_whiskers(root, marker, &to_pixel, x_range, y_range)?;
            if let Some((arrow, real)) = &place.arrow {
                draw_arrow(root, arrow, *real, marker.role.trajectory_colour())?;
            }
            draw_point(root, marker.role, place)?;
        }
        self.draw_labels(root, &placed, &plot)?;

        if let Some(note) = self.highlight_hidden {
            root.draw(&Text::new(
                note,
                (
                    ((plot.left + plot.right) / 2.0) as i32,
                    (plot.top + ZONE_NAME_PX * 3.0) as i32,
                ),
                bold_text_style(AXIS_TITLE_PX, NOTE_COLOUR, HPos::Center, VPos::Center),
            ))?;
        }

        let notes = self.notes(&placed);
        let notes: Vec<&str> = notes.iter().map(String::as_str).collect();
        let separator = notes_separator(lang);
        let max_width = f64::from(SIZE.0) - 24.0;
        for (line, text) in wrap_notes(&notes, separator, NOTE_PX, max_width)
            .iter()
            .enumerate()
        {
            notes_area.draw(&Text::new(
                text.as_str(),
                (12, 4 + (NOTE_PX * 1.3) as i32 * line as i32),
                text_style(NOTE_PX, NOTE_COLOUR, HPos::Left, VPos::Top),
            ))?;
        }
        Ok(())
    }

    /// Each zone's name in its outer corner: the chosen language large, the other small.
    fn draw_zone_names(&self, root: &Root<'_>, plot: &Bounds) -> DrawResult {
        for (zone, place) in ZONES.iter().zip(zone_name_places(self.lang, plot)) {
            let (main, other) = (text(self.lang, zone.key), text(self.lang.other(), zone.key));
            let (x, h) = if zone.high_x {
                (place.right, HPos::Right)
            } else {
                (place.left, HPos::Left)
            };
            root.draw(&Text::new(
                main,
                (x as i32, place.top as i32),
                bold_text_style(ZONE_NAME_PX, TEXT_COLOUR, h, VPos::Top),
            ))?;
            root.draw(&Text::new(
                other,
                (x as i32, (place.top + ZONE_NAME_PX + 3.0) as i32),
                text_style(ZONE_OTHER_NAME_PX, NOTE_COLOUR, h, VPos::Top),
            ))?;
        }
        Ok(())
    }

    /// Thin lines across each axis's zone interval (the 95% interval with the SD floored,
    /// the one that decides certainty: `DimensionMeta::zone_interval`), kept within the scale.
    fn draw_whiskers(
        &self,
        root: &Root<'_>,
        marker: &Marker<'_>,
        to_pixel: &impl Fn(f64, f64) -> Pixel,
        x_range: (f64, f64),
        y_range: (f64, f64),
    ) -> DrawResult {
        let style = marker.role.fill().mix(0.6).stroke_width(1);
        if let Some((low, high)) = self.x_axis.zone_interval(marker.x) {
            root.draw(&PathElement::new(
                vec![
                    to_pixel(low.max(x_range.0), marker.y.mean),
                    to_pixel(high.min(x_range.1), marker.y.mean),
                ],
                style,
            ))?;
        }
        if let Some((low, high)) = self.y_axis.zone_interval(marker.y) {
            root.draw(&PathElement::new(
                vec![
                    to_pixel(marker.x.mean, low.max(y_range.0)),
                    to_pixel(marker.x.mean, high.min(y_range.1)),
                ],
                style,
            ))?;
        }
        Ok(())
    }

    /// Names beside their points, the highlighted group's and the organisation's placed first
    /// so they get the best spots; drawn in the same order as the points, so on top.
    fn draw_labels(&self, root: &Root<'_>, placed: &[Placed], plot: &Bounds) -> DrawResult {
        for (index, spot) in self.label_spots(placed, plot) {
            let role = self.markers[index].role;
            if let Some(line) = spot.leader {
                root.draw(&PathElement::new(
                    line.to_vec(),
                    LEADER_COLOUR.stroke_width(1),
                ))?;
            }
            let position = (spot.bounds.left as i32, spot.bounds.top as i32 + 1);
            let style = match role {
                Role::Highlight => {
                    bold_text_style(spot.px, HIGHLIGHT_TRAJECTORY_COLOUR, HPos::Left, VPos::Top)
                }
                Role::Organisation => {
                    bold_text_style(spot.px, ORGANISATION_FILL, HPos::Left, VPos::Top)
                }
                Role::Other | Role::Muted => {
                    text_style(spot.px, TEXT_COLOUR, HPos::Left, VPos::Top)
                }
            };
            root.draw(&Text::new(spot.text, position, style))?;
        }
        Ok(())
    }

    /// Where each label goes (by marker index, in drawing order): the highlighted group and
    /// the organisation first, then the others from the most crowded part of the plot out,
    /// each clear of every point, every zone name and every label placed before it.
    fn label_spots(&self, placed: &[Placed], plot: &Bounds) -> Vec<(usize, LabelSpot)> {
        let mut taken: Vec<Bounds> = placed
            .iter()
            .map(|p| Bounds::around(p.centre, p.radius))
            .collect();
        taken.extend(zone_name_places(self.lang, plot));
        let neighbours = |index: usize| {
            let (x, y) = placed[index].centre;
            placed
                .iter()
                .filter(|p| (p.centre.0 - x).abs() < 80 && (p.centre.1 - y).abs() < 40)
                .count()
        };
        let mut order: Vec<usize> = (0..self.markers.len())
            .filter(|&i| self.markers[i].label.is_some())
            .collect();
        order.sort_by_key(|&i| {
            (
                std::cmp::Reverse(self.markers[i].role),
                std::cmp::Reverse(neighbours(i)),
                i,
            )
        });
        let mut spots = Vec::new();
        for index in order {
            let (marker, place) = (&self.markers[index], &placed[index]);
            let Some(label) = marker.label else { continue };
            let bold = matches!(marker.role, Role::Highlight | Role::Organisation);
            let font = LabelFont {
                px: label_px(marker.role),
                bold,
            };
            if let Some(spot) = place_label(place.centre, place.radius, label, font, plot, &taken) {
                taken.push(spot.bounds);
                spots.push((index, spot));
            }
        }
        spots.sort_by_key(|(index, _)| *index);
        spots
    }

    /// What the marks mean, only for marks that are drawn.
    fn notes(&self, placed: &[Placed]) -> Vec<String> {
        let lang = self.lang;
        let cut = self.results.cut;
        let (x, y) = (format!("{:.1}", cut.x), format!("{:.1}", cut.y));
        let mut notes = vec![if cut.x == cut.y {
            text_with(lang, "chart_cut_lines", &[("cut", &x)])
        } else {
            text_with(lang, "chart_cut_lines_per_axis", &[("x", &x), ("y", &y)])
        }];
        let mut add = |shown: bool, key: &'static str| {
            if shown {
                notes.push(text(lang, key).to_string());
            }
        };
        add(
            self.markers.iter().any(|m| {
                self.x_axis.zone_interval(m.x).is_some() || self.y_axis.zone_interval(m.y).is_some()
            }),
            "chart_note_intervals",
        );
        add(
            self.markers
                .iter()
                .any(|m| m.role != Role::Organisation && m.n.is_some()),
            "chart_note_circle_size",
        );
        add(
            placed.iter().any(|p| p.arrow.is_some()),
            "chart_note_arrows",
        );
        add(
            self.markers.iter().any(|m| m.role == Role::Muted),
            "chart_note_grey",
        );
        notes
    }
}

fn label_px(role: Role) -> f64 {
    match role {
        Role::Highlight => LABEL_PX + 1.0,
        _ => LABEL_PX,
    }
}

fn draw_arrow(root: &Root<'_>, arrow: &Arrow, real: bool, colour: RGBColor) -> DrawResult {
    let colour = colour.mix(if real { 1.0 } else { FAINT_ARROW_OPACITY });
    root.draw(&PathElement::new(
        arrow.shaft.to_vec(),
        colour.stroke_width(2),
    ))?;
    root.draw(&Polygon::new(arrow.head.to_vec(), colour.filled()))?;
    Ok(())
}

/// A group as a circle, the organisation as a diamond; a white rim keeps overlapping marks
/// apart.
fn draw_point(root: &Root<'_>, role: Role, place: &Placed) -> DrawResult {
    let (x, y) = place.centre;
    let r = place.radius;
    if role == Role::Organisation {
        let corners = vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)];
        let mut rim = corners.clone();
        rim.push((x, y - r));
        root.draw(&Polygon::new(corners, ORGANISATION_FILL.filled()))?;
        root.draw(&PathElement::new(rim, WHITE.stroke_width(1)))?;
    } else {
        let radius = r.unsigned_abs();
        root.draw(&Circle::new(place.centre, radius, role.fill().filled()))?;
        root.draw(&Circle::new(place.centre, radius, WHITE.stroke_width(1)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::test_support::*;

    fn options(lang: Lang, highlight: Option<&str>, others: Others) -> QuadrantOptions {
        QuadrantOptions {
            lang,
            highlight: highlight.map(str::to_string),
            others,
        }
    }

    fn points(document: &roxmltree::Document, fill: RGBColor) -> usize {
        count(document, "circle", "fill", fill)
    }

    fn arrows(document: &roxmltree::Document, colour: RGBColor) -> usize {
        count(document, "polygon", "fill", colour)
    }

    #[test]
    fn role_colours_are_distinct() {
        let colours = [
            POINT_FILL,
            MUTED_POINT_FILL,
            HIGHLIGHT_FILL,
            ORGANISATION_FILL,
            TRAJECTORY_COLOUR,
            HIGHLIGHT_TRAJECTORY_COLOUR,
        ];
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(hex(*a), hex(*b));
            }
            assert!(ZONES.iter().all(|zone| hex(zone.shade) != hex(*a)));
        }
    }

    #[test]
    fn names_the_four_zones_in_both_languages() {
        for lang in [Lang::Ja, Lang::En] {
            let svg = quadrant(&wave(), &options(lang, None, Others::Labelled));
            let document = parse(&svg);
            let texts = texts(&document);
            for name in [
                "学習",
                "快適",
                "不安",
                "無気力",
                "Learning",
                "Comfort",
                "Anxiety",
                "Apathy",
            ] {
                assert!(
                    texts.iter().any(|t| t == name),
                    "{name} missing in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn axis_titles_are_the_dimension_names_in_the_chosen_language() {
        let japanese_svg = quadrant(&wave(), &QuadrantOptions::default());
        let japanese = texts(&parse(&japanese_svg));
        assert!(japanese.iter().any(|t| t == "心理的安全性"));
        assert!(japanese.iter().any(|t| t == "高い基準で仕事をする風土"));
        let english_svg = quadrant(&wave(), &options(Lang::En, None, Others::Labelled));
        let english = texts(&parse(&english_svg));
        assert!(english.iter().any(|t| t == "Psychological safety"));
        assert!(english.iter().any(|t| t == "Organisation"));
        assert!(!english.iter().any(|t| t == "組織全体"));
    }

    #[test]
    fn one_point_per_shown_group_and_none_for_hidden_groups_or_cuts() {
        let svg = quadrant(&wave(), &QuadrantOptions::default());
        let document = parse(&svg);
        assert_eq!(points(&document, POINT_FILL), 4);
        assert_eq!(count(&document, "polygon", "fill", ORGANISATION_FILL), 1);
        assert_eq!(points(&document, HIGHLIGHT_FILL), 0);
        assert_eq!(points(&document, MUTED_POINT_FILL), 0);
        for name in ["総務課", "市民課", "税務課", "福祉課", "組織全体"] {
            assert!(has_text(&document, name), "{name} unlabelled");
        }
        assert!(!has_text(&document, SUPPRESSED_NAME));
        assert!(!has_text(&document, CUT_NAME));
    }

    #[test]
    fn a_team_that_answered_alike_still_gets_the_whiskers_that_decide_its_certainty() {
        // SD 0 everywhere: the published interval would be a dot, but the zone interval (SD
        // floored at 0.5) is what decides certainty, so it is what the chart draws.
        let mut results = wave();
        for group in &mut results.groups {
            for score in group.scores.values_mut() {
                score.sd = Some(0.0);
                score.n = 5;
                score.ci95 = Some((score.mean, score.mean));
            }
        }
        let svg = quadrant(&results, &QuadrantOptions::default());
        let document = parse(&svg);
        let stroke = hex(POINT_FILL);
        let whiskers: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(&stroke))
            .filter_map(|n| n.attribute("points"))
            .collect();
        assert_eq!(whiskers.len(), 8, "{svg}");
        for points in whiskers {
            let ends: Vec<&str> = points.split_whitespace().collect();
            assert!(ends.len() == 2 && ends[0] != ends[1], "{points}");
        }
    }

    #[test]
    fn a_move_since_the_previous_wave_is_an_arrow() {
        let document_svg = quadrant(&wave(), &QuadrantOptions::default());
        let document = parse(&document_svg);
        assert_eq!(arrows(&document, TRAJECTORY_COLOUR), 1);
        assert!(has_text(&document, "矢印は前回からの変化"));

        let first_svg = quadrant(&first_wave(), &QuadrantOptions::default());
        let first = parse(&first_svg);
        assert_eq!(arrows(&first, TRAJECTORY_COLOUR), 0);
        assert_eq!(arrows(&first, HIGHLIGHT_TRAJECTORY_COLOUR), 0);
        assert!(!has_text(&first, "矢印"));
    }

    #[test]
    fn hidden_mode_shows_only_the_highlighted_group_and_the_organisation() {
        let svg = quadrant(&wave(), &options(Lang::Ja, Some(ANXIETY), Others::Hidden));
        let document = parse(&svg);
        assert_eq!(points(&document, HIGHLIGHT_FILL), 1);
        assert_eq!(points(&document, POINT_FILL), 0);
        assert_eq!(points(&document, MUTED_POINT_FILL), 0);
        assert_eq!(count(&document, "polygon", "fill", ORGANISATION_FILL), 1);
        assert!(has_text(&document, "税務課"));
        assert!(!has_text(&document, "総務課"));
        assert_eq!(arrows(&document, TRAJECTORY_COLOUR), 0);
    }

    #[test]
    fn the_highlighted_group_always_shows_its_trajectory() {
        let svg = quadrant(&wave(), &options(Lang::Ja, Some(LEARNING), Others::Hidden));
        let document = parse(&svg);
        assert_eq!(points(&document, HIGHLIGHT_FILL), 1);
        assert_eq!(arrows(&document, HIGHLIGHT_TRAJECTORY_COLOUR), 1);
        assert_eq!(arrows(&document, TRAJECTORY_COLOUR), 0);
    }

    #[test]
    fn unlabelled_others_are_grey_nameless_and_without_trajectories() {
        let svg = quadrant(
            &wave(),
            &options(Lang::Ja, Some(COMFORT), Others::Unlabelled),
        );
        let document = parse(&svg);
        assert_eq!(points(&document, HIGHLIGHT_FILL), 1);
        assert_eq!(points(&document, MUTED_POINT_FILL), 3);
        assert_eq!(points(&document, POINT_FILL), 0);
        assert!(has_text(&document, "市民課"));
        for name in ["総務課", "税務課", "福祉課"] {
            assert!(!has_text(&document, name), "{name} labelled");
        }
        assert_eq!(arrows(&document, TRAJECTORY_COLOUR), 0);
        assert!(has_text(&document, "灰色の点はその他の職場"));
    }

    #[test]
    fn a_hidden_highlighted_group_is_not_drawn_but_noted() {
        let svg = quadrant(
            &wave(),
            &options(Lang::Ja, Some(SUPPRESSED), Others::Hidden),
        );
        let document = parse(&svg);
        assert_eq!(points(&document, HIGHLIGHT_FILL), 0);
        assert!(has_text(&document, "選択した職場は非表示です"));
        assert!(!has_text(&document, SUPPRESSED_NAME));

        let mut results = wave();
        for group in &mut results.groups {
            if group.workplace.as_deref() == Some(SUPPRESSED) {
                group.hidden_reason = Some(HiddenReason::ProtectsSmallerGroup);
            }
        }
        let svg = quadrant(
            &results,
            &options(Lang::Ja, Some(SUPPRESSED), Others::Hidden),
        );
        assert!(has_text(&parse(&svg), "小さな隣の職場を守るため"));
    }

    #[test]
    fn point_size_follows_a_shown_count_within_limits() {
        assert_eq!(radius(None), DEFAULT_RADIUS);
        assert_eq!(radius(Some(1)), MIN_RADIUS);
        assert_eq!(radius(Some(10_000)), MAX_RADIUS);
        assert!(radius(Some(25)) > DEFAULT_RADIUS);
    }

    #[test]
    fn an_arrow_stops_at_the_point_and_a_tiny_move_has_none() {
        let long = arrow((0, 0), (100, 0), 7).expect("an arrow");
        assert_eq!(long.head[0], (92, 0));
        assert!(arrow((0, 0), (12, 0), 7).is_none());
    }

    #[test]
    fn labels_avoid_each_other_and_move_away_with_a_leader_when_crowded() {
        let plot = Bounds {
            left: 0.0,
            top: 0.0,
            right: 400.0,
            bottom: 400.0,
        };
        let font = LabelFont {
            px: LABEL_PX,
            bold: false,
        };
        let mut taken = vec![Bounds::around((100, 100), 7)];
        let first = place_label((100, 100), 7, "総務課", font, &plot, &taken).expect("room");
        assert!(first.leader.is_none(), "beside its point");
        taken.push(first.bounds);
        let mut spots = vec![first];
        for _ in 0..12 {
            let spot = place_label((100, 100), 7, "総務課", font, &plot, &taken).expect("room");
            assert!(spot.bounds.within(&plot));
            assert!(spots.iter().all(|s| !s.bounds.overlaps(&spot.bounds)));
            taken.push(spot.bounds);
            spots.push(spot);
        }
        assert!(
            spots.iter().any(|s| s.leader.is_some()),
            "crowded labels get leaders"
        );
        let at_edge = place_label((395, 100), 7, "総務課", font, &plot, &[]).expect("room");
        assert!(at_edge.bounds.within(&plot));
        assert!(
            at_edge.bounds.right <= 395.0,
            "to the left of a point at the edge"
        );
    }

    #[test]
    fn a_label_shrinks_then_shortens_when_there_is_no_room() {
        let plot = Bounds {
            left: 0.0,
            top: 0.0,
            right: 120.0,
            bottom: 30.0,
        };
        let font = LabelFont {
            px: LABEL_PX,
            bold: false,
        };
        let spot = place_label((10, 15), 5, "国民健康保険係", font, &plot, &[]).expect("room");
        assert!(spot.bounds.within(&plot));
        assert!(spot.px < LABEL_PX && spot.text.ends_with('…'), "{spot:?}");
        let full = Bounds {
            left: 0.0,
            top: 0.0,
            right: 120.0,
            bottom: 30.0,
        };
        assert_eq!(place_label((10, 15), 5, "係", font, &plot, &[full]), None);
    }

    /// The demo city's results of its second wave, from the engine.
    fn demo_results() -> WaveResults {
        use rand::SeedableRng;
        let text = include_str!("../../survey-definitions/workplace-climate.toml");
        let definition = crate::survey::SurveyDefinition::parse(text, "workplace-climate.toml")
            .expect("the shipped definition");
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let data = crate::demo::sample_wave_data(
            std::sync::Arc::new(definition),
            1,
            0.9,
            crate::aggregation::guard::Thresholds::default(),
            &mut rng,
        );
        crate::aggregation::compute(&data, None, None).expect("the demo aggregates")
    }

    /// Each group label's box as drawn: every `<text>` naming a group (or an abbreviation of
    /// one), from its position, size and text.
    fn label_boxes(svg: &str, names: &[String]) -> Vec<(String, Bounds)> {
        let document = parse(svg);
        document
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| {
                let text = n.text()?.trim().to_string();
                let stem = text.trim_end_matches('…');
                let is_label = names
                    .iter()
                    .any(|name| name == &text || (text.ends_with('…') && name.starts_with(stem)));
                if !is_label {
                    return None;
                }
                let number = |attribute: &str| n.attribute(attribute)?.parse::<f64>().ok();
                let (x, y, px) = (number("x")?, number("y")?, number("font-size")?);
                assert_eq!(n.attribute("text-anchor"), Some("start"), "{text}");
                let bold = n.attribute("font-weight") == Some("bold");
                let (width, _) = label_size(&text, px, bold);
                let bounds = Bounds {
                    left: x,
                    top: y,
                    right: x + width,
                    bottom: y + px,
                };
                Some((text, bounds))
            })
            .collect()
    }

    #[test]
    fn the_demo_city_labels_never_overlap_at_any_level() {
        let results = demo_results();
        let levels = results.unit_levels();
        let count = |level: u32| levels.values().filter(|&&l| l == level).count();
        assert_eq!((count(1), count(2), count(3)), (3, 9, 18), "部, 課, 係");
        let mut names: Vec<String> = results.groups.iter().map(|g| g.name.clone()).collect();
        names.push("組織全体".to_string());
        // The plot as the chart lays it out (the same margins and label areas).
        let plot = Bounds {
            left: 8.0 + (TICK_PX * 1.2 + AXIS_TITLE_PX + 28.0).floor(),
            top: 12.0,
            right: f64::from(SIZE.0) - 24.0,
            bottom: f64::from(SIZE.1 - NOTES_HEIGHT) - (TICK_PX + AXIS_TITLE_PX + 28.0).floor(),
        };
        for level in [1, 2, 3] {
            let svg = quadrant_of_level(&results, &QuadrantOptions::default(), level);
            let shown = results
                .groups
                .iter()
                .filter(|g| g.zone.is_some() && g.level != GroupLevel::JobLevel)
                .filter(|g| {
                    g.workplace
                        .as_deref()
                        .is_some_and(|c| levels.get(c) == Some(&level))
                })
                .count();
            let boxes = label_boxes(&svg, &names);
            assert_eq!(
                boxes.len(),
                shown + 1,
                "every shown group named at level {level}"
            );
            for (i, (text, a)) in boxes.iter().enumerate() {
                assert!(
                    a.within(&plot),
                    "{text} leaves the plot at level {level}: {a:?}"
                );
                for (other, b) in &boxes[i + 1..] {
                    assert!(
                        !a.overlaps(b),
                        "{text} and {other} overlap at level {level}"
                    );
                }
            }
        }
        // Only the level's groups are drawn: at the 部 level no 係 is named.
        let departments = quadrant_of_level(&results, &QuadrantOptions::default(), 1);
        assert!(has_text(&parse(&departments), "総務部"));
        assert!(!has_text(&parse(&departments), "職員係"));
    }

    #[test]
    fn every_text_is_legible_when_the_chart_is_360_px_wide() {
        let results = demo_results();
        for level in [1, 2, 3] {
            let svg = quadrant_of_level(&results, &QuadrantOptions::default(), level);
            let document = parse(&svg);
            let root = document.root_element();
            let width: f64 = root
                .attribute("width")
                .and_then(|w| w.parse().ok())
                .expect("a width");
            let scale = 360.0 / width;
            for text in document.descendants().filter(|n| n.has_tag_name("text")) {
                let px: f64 = text
                    .attribute("font-size")
                    .and_then(|s| s.parse().ok())
                    .expect("a size");
                assert!(
                    px * scale >= 9.0,
                    "{:?} is {:.1} px on a phone",
                    text.text(),
                    px * scale
                );
            }
        }
    }

    #[test]
    fn a_survey_without_axes_gets_a_message() {
        let mut results = wave();
        for dimension in &mut results.dimensions {
            dimension.quadrant_axis = None;
        }
        let svg = quadrant(&results, &QuadrantOptions::default());
        let document = parse(&svg);
        assert!(has_text(&document, "四象限の軸がありません"));
    }
}
