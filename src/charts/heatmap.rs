//! Groups × dimensions: each cell coloured by how favourable the group's score is and marked
//! with its mean; a hidden cell is grey with a dash.
//!
//! Every shown cell of a workplace is a link to its drill-down ([`drill_down_href`]) with a
//! title that names the group, the dimension and the mean; a hidden cell is not a link. The
//! links work where the SVG is part of the page (inline or `<object>`), not in an `<img>`.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

use super::{
    dimension_name, fit_text, font, message_svg, name_separator, render_with_overlay, text_style,
    text_width, xml_escape, DrawResult, Root, NOTE_COLOUR, TEXT_COLOUR,
};
use crate::aggregation::{DimensionMeta, GroupLevel, GroupResult, WaveResults};
use crate::i18n::{text, text_with, Lang};

/// The favourable end of the diverging palette, a cell far above the scale's midpoint.
pub const FAVOURABLE_COLOUR: RGBColor = RGBColor(0x21, 0x66, 0xAC);
/// The concerning end, a cell far below the midpoint (above it for an anxiety).
pub const CONCERN_COLOUR: RGBColor = RGBColor(0xB2, 0x18, 0x2B);
/// Fill of a hidden cell (`<rect fill="#D9D9D9">`), which shows "—" and never a number.
pub const SUPPRESSED_CELL_FILL: RGBColor = RGBColor(0xD9, 0xD9, 0xD9);

/// The palette's midpoint, a score at the middle of its scale.
const NEUTRAL_COLOUR: RGBColor = RGBColor(0xF7, 0xF7, 0xF7);
const HIDDEN_MARK: &str = "—";
const CELL_WIDTH: u32 = 64;
const ROW_HEIGHT: u32 = 26;
const LEFT: u32 = 12;
const LEGEND_HEIGHT: u32 = 52;
const MIN_WIDTH: u32 = 560;
const LABEL_PX: f64 = 12.0;
const INDENT_PER_DEPTH: f64 = 14.0;
/// Beyond this share of the way to either end, a cell is dark enough for white text.
const DARK_CELL: f64 = 0.55;

/// A row of the heatmap: its group, its name and indent, and whether its cells link to the
/// workplace's drill-down.
struct Row<'a> {
    group: &'a GroupResult,
    label: String,
    depth: u32,
    links: bool,
}

/// Every group except job-level cuts, in the order of `results`, against every dimension.
pub fn heatmap(results: &WaveResults, lang: Lang) -> String {
    let rows: Vec<Row<'_>> = results
        .groups
        .iter()
        .filter(|g| g.level != GroupLevel::JobLevel)
        .map(|group| Row {
            group,
            label: row_label(group, lang).to_string(),
            depth: group.depth,
            links: true,
        })
        .collect();
    draw_heatmap(results, rows, lang)
}

/// The job-level cuts (HR only), the organisation's first and then each department's, named
/// "総務部・管理職" with the labels of the survey's job-level question, against every
/// dimension. A hidden cut is grey with dashes like any hidden group; no cell is a link.
pub fn job_level_heatmap(
    results: &WaveResults,
    question: Option<&crate::survey::JobLevelQuestion>,
    lang: Lang,
) -> String {
    let rows: Vec<Row<'_>> = results
        .groups
        .iter()
        .filter(|g| g.level == GroupLevel::JobLevel)
        .filter_map(|group| {
            let id = group.job_level.as_deref()?;
            let level = question
                .and_then(|q| q.options.iter().find(|o| o.id == id))
                .map_or(id, |o| o.label.get(lang));
            let total = match group.workplace {
                None => text(lang, "chart_organisation"),
                Some(_) => group.name.as_str(),
            };
            Some(Row {
                group,
                label: format!("{total}{}{level}", name_separator(lang)),
                depth: u32::from(group.workplace.is_some()),
                links: false,
            })
        })
        .collect();
    draw_heatmap(results, rows, lang)
}

fn draw_heatmap(results: &WaveResults, rows: Vec<Row<'_>>, lang: Lang) -> String {
    if rows.is_empty() || results.dimensions.is_empty() {
        return message_svg((MIN_WIDTH, 200), text(lang, "chart_no_data"));
    }
    let chart = Heatmap {
        lang,
        layout: Layout::new(&rows, &results.dimensions, lang),
        rows,
        dimensions: &results.dimensions,
    };
    let links = chart.links();
    render_with_overlay(
        "heatmap",
        chart.layout.size,
        lang,
        |root| chart.draw(root),
        &links,
    )
}

/// The HR drill-down page of one workplace (`/hr/groups?workplace=CODE`), the code
/// percent-encoded.
pub fn drill_down_href(workplace: &str) -> String {
    let code = percent_encoding::utf8_percent_encode(workplace, percent_encoding::NON_ALPHANUMERIC);
    format!("/hr/groups?workplace={code}")
}

/// The cell's colour and whether it is dark: `display` (0–100) is read as favourable or, for a
/// dimension where lower is better, as its opposite.
fn cell_colour(display: f64, higher_is_better: bool) -> (RGBColor, bool) {
    let favourable = if higher_is_better {
        display
    } else {
        100.0 - display
    };
    let towards = ((favourable - 50.0) / 50.0).clamp(-1.0, 1.0);
    let end = if towards >= 0.0 {
        FAVOURABLE_COLOUR
    } else {
        CONCERN_COLOUR
    };
    let share = towards.abs();
    let blend = |from: u8, to: u8| {
        (f64::from(from) + (f64::from(to) - f64::from(from)) * share).round() as u8
    };
    (
        RGBColor(
            blend(NEUTRAL_COLOUR.0, end.0),
            blend(NEUTRAL_COLOUR.1, end.1),
            blend(NEUTRAL_COLOUR.2, end.2),
        ),
        share > DARK_CELL,
    )
}

fn row_label(group: &GroupResult, lang: Lang) -> &str {
    match group.level {
        GroupLevel::Organisation => text(lang, "chart_organisation"),
        _ => &group.name,
    }
}

/// Sizes in pixels, from the longest labels.
struct Layout {
    names_width: f64,
    header_height: f64,
    size: (u32, u32),
}

impl Layout {
    fn new(rows: &[Row<'_>], dimensions: &[DimensionMeta], lang: Lang) -> Layout {
        let names_width = rows
            .iter()
            .map(|row| indent(row) + text_width(&row.label, LABEL_PX))
            .fold(0.0, f64::max)
            .clamp(104.0, 304.0)
            + 16.0;
        let header_height = dimensions
            .iter()
            .map(|d| text_width(dimension_name(d, lang), LABEL_PX))
            .fold(0.0, f64::max)
            .clamp(44.0, 264.0)
            + 16.0;
        let columns = u32::try_from(dimensions.len()).unwrap_or(u32::MAX);
        let row_count = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let width = (LEFT + names_width as u32)
            .saturating_add(columns.saturating_mul(CELL_WIDTH))
            .saturating_add(16)
            .max(MIN_WIDTH);
        let height = (header_height as u32)
            .saturating_add(row_count.saturating_mul(ROW_HEIGHT))
            .saturating_add(LEGEND_HEIGHT);
        Layout {
            names_width,
            header_height,
            size: (width, height),
        }
    }
}

fn indent(row: &Row<'_>) -> f64 {
    f64::from(row.depth) * INDENT_PER_DEPTH
}

struct Heatmap<'a> {
    lang: Lang,
    rows: Vec<Row<'a>>,
    dimensions: &'a [DimensionMeta],
    layout: Layout,
}

impl Heatmap<'_> {
    /// The top left corner of a cell.
    fn cell_origin(&self, row: usize, column: usize) -> (i32, i32) {
        let cells_left = LEFT as i32 + self.layout.names_width as i32;
        let cells_top = self.layout.header_height as i32;
        (
            cells_left + column as i32 * CELL_WIDTH as i32,
            cells_top + row as i32 * ROW_HEIGHT as i32,
        )
    }

    /// A shown cell's score; `None` for a hidden one.
    fn shown_score<'g>(
        group: &'g GroupResult,
        dimension: &DimensionMeta,
    ) -> Option<&'g crate::aggregation::DimensionScore> {
        group
            .scores
            .get(&dimension.id)
            .filter(|s| !group.suppressed && s.mean.is_finite() && s.display.is_finite())
    }

    /// A transparent link over every shown cell of a workplace, titled for screen readers
    /// and tooltips.
    fn links(&self) -> String {
        let mut links = String::new();
        for (
            row,
            Row {
                group,
                links: linked,
                ..
            },
        ) in self.rows.iter().enumerate()
        {
            let Some(code) = group.workplace.as_deref().filter(|_| *linked) else {
                continue;
            };
            for (column, dimension) in self.dimensions.iter().enumerate() {
                let Some(score) = Self::shown_score(group, dimension) else {
                    continue;
                };
                let (left, top) = self.cell_origin(row, column);
                let title = text_with(
                    self.lang,
                    "chart_cell_title",
                    &[
                        ("group", &group.name),
                        ("dimension", dimension.name(self.lang)),
                        ("mean", &format!("{:.2}", score.mean)),
                    ],
                );
                links.push_str(&format!(
                    "<a href=\"{href}\" aria-label=\"{title}\"><title>{title}</title>\
                     <rect x=\"{left}\" y=\"{top}\" width=\"{CELL_WIDTH}\" height=\"{ROW_HEIGHT}\" \
                     fill=\"none\" pointer-events=\"all\"/></a>\n",
                    href = xml_escape(&drill_down_href(code)),
                    title = xml_escape(&title),
                ));
            }
        }
        links
    }

    fn draw(&self, root: &Root<'_>) -> DrawResult {
        let lang = self.lang;
        let (cells_left, cells_top) = self.cell_origin(0, 0);
        let (cell_w, row_h) = (CELL_WIDTH as i32, ROW_HEIGHT as i32);

        for (column, dimension) in self.dimensions.iter().enumerate() {
            let x = cells_left + column as i32 * cell_w + cell_w / 2;
            root.draw(&Text::new(
                fit_text(
                    dimension_name(dimension, lang),
                    LABEL_PX,
                    self.layout.header_height - 16.0,
                ),
                (x, cells_top - 8),
                font(LABEL_PX)
                    .color(&TEXT_COLOUR)
                    .transform(FontTransform::Rotate270)
                    .pos(plotters::style::text_anchor::Pos::new(
                        HPos::Left,
                        VPos::Center,
                    )),
            ))?;
        }

        for (index, row) in self.rows.iter().enumerate() {
            let group = row.group;
            let top = cells_top + index as i32 * row_h;
            let middle = top + row_h / 2;
            let indent = indent(row);
            root.draw(&Text::new(
                fit_text(
                    &row.label,
                    LABEL_PX,
                    self.layout.names_width - 16.0 - indent,
                ),
                (LEFT as i32 + indent as i32, middle),
                text_style(LABEL_PX, TEXT_COLOUR, HPos::Left, VPos::Center),
            ))?;
            for (column, dimension) in self.dimensions.iter().enumerate() {
                let left = cells_left + column as i32 * cell_w;
                let score = Self::shown_score(group, dimension);
                let (fill, text, text_colour) = match score {
                    Some(score) => {
                        let (fill, dark) = cell_colour(score.display, dimension.higher_is_better);
                        let text_colour = if dark { WHITE } else { TEXT_COLOUR };
                        (fill, format!("{:.2}", score.mean), text_colour)
                    }
                    None => (SUPPRESSED_CELL_FILL, HIDDEN_MARK.to_string(), NOTE_COLOUR),
                };
                // A one-pixel white gap keeps neighbouring cells apart.
                root.draw(&Rectangle::new(
                    [(left + 1, top + 1), (left + cell_w - 1, top + row_h - 1)],
                    fill.filled(),
                ))?;
                root.draw(&Text::new(
                    text,
                    (left + cell_w / 2, middle),
                    text_style(LABEL_PX, text_colour, HPos::Center, VPos::Center),
                ))?;
            }
        }
        self.draw_legend(root, cells_top + self.rows.len() as i32 * row_h + 16)
    }

    /// Colour keys as coloured "■" text, so that counting cells by colour counts cells only.
    fn draw_legend(&self, root: &Root<'_>, top: i32) -> DrawResult {
        const PX: f64 = 11.0;
        let lang = self.lang;
        let keys = [
            (text(lang, "chart_favourable"), FAVOURABLE_COLOUR),
            (text(lang, "chart_concern"), CONCERN_COLOUR),
            (
                text(lang, "chart_hidden_identifiable"),
                SUPPRESSED_CELL_FILL,
            ),
        ];
        let mut x = f64::from(LEFT);
        for (name, colour) in keys {
            root.draw(&Text::new(
                "■",
                (x as i32, top),
                text_style(PX + 2.0, colour, HPos::Left, VPos::Center),
            ))?;
            x += PX + 6.0;
            root.draw(&Text::new(
                name,
                (x as i32, top),
                text_style(PX, TEXT_COLOUR, HPos::Left, VPos::Center),
            ))?;
            x += text_width(name, PX) + 18.0;
        }
        let explanation = if self.dimensions.iter().any(|d| !d.higher_is_better) {
            text(lang, "chart_means_anxieties_reversed")
        } else {
            text(lang, "chart_means")
        };
        root.draw(&Text::new(
            explanation,
            (LEFT as i32, top + 18),
            text_style(PX, NOTE_COLOUR, HPos::Left, VPos::Center),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::test_support::*;

    fn is_number(text: &str) -> bool {
        text.chars().any(|c| c.is_ascii_digit())
    }

    #[test]
    fn a_suppressed_group_shows_dashes_never_numbers() {
        let svg = heatmap(&wave(), Lang::Ja);
        let document = parse(&svg);
        let label = text_nodes(&document)
            .find(|n| n.text().map(str::trim) == Some(SUPPRESSED_NAME))
            .expect("the suppressed group still has its row");
        let row_y = label.attribute("y");
        let row: Vec<String> = text_nodes(&document)
            .filter(|n| n.attribute("y") == row_y && n != &label)
            .map(|n| n.text().unwrap_or_default().trim().to_string())
            .collect();
        assert_eq!(row.len(), 6);
        assert!(row.iter().all(|t| t == HIDDEN_MARK), "{row:?}");
    }

    #[test]
    fn every_shown_cell_has_its_mean_and_every_hidden_cell_is_grey() {
        let svg = heatmap(&wave(), Lang::Ja);
        let document = parse(&svg);
        // Organisation and 総務課, 市民課, 税務課: 6 cells each; 福祉課 one hidden.
        let numbers = texts(&document).iter().filter(|t| is_number(t)).count();
        assert_eq!(numbers, 4 * 6 + 5);
        // 小規模係's six cells and 福祉課's hidden one.
        assert_eq!(count(&document, "rect", "fill", SUPPRESSED_CELL_FILL), 7);
        assert!(has_text(&document, "4.10"));
        assert!(!has_text(&document, CUT_NAME));
    }

    #[test]
    fn a_group_flagged_suppressed_shows_no_numbers_whatever_it_holds() {
        let mut results = wave();
        for group in &mut results.groups {
            group.suppressed = true;
        }
        let svg = heatmap(&results, Lang::Ja);
        let document = parse(&svg);
        assert!(!texts(&document).iter().any(|t| is_number(t)));
    }

    #[test]
    fn every_shown_cell_of_a_workplace_links_to_its_drill_down_and_no_hidden_cell_does() {
        let svg = heatmap(&wave(), Lang::Ja);
        let document = parse(&svg);
        let links: Vec<(&str, String)> = document
            .descendants()
            .filter(|n| n.has_tag_name("a"))
            .map(|a| {
                let title = a
                    .children()
                    .find(|c| c.has_tag_name("title"))
                    .and_then(|t| t.text())
                    .unwrap_or_default()
                    .to_string();
                (a.attribute("href").unwrap_or_default(), title)
            })
            .collect();
        // 総務課, 市民課, 税務課: six cells each; 福祉課 five (one hidden); the organisation
        // (no drill-down) and 小規模係 (hidden) none.
        assert_eq!(links.len(), 3 * 6 + 5, "{links:?}");
        let learning = format!("/hr/groups?workplace={LEARNING}");
        assert!(links.iter().any(|(href, title)| *href == learning
            && title.contains("総務課")
            && title.contains("心理的安全性")
            && title.contains("詳細")));
        let suppressed = format!("/hr/groups?workplace={SUPPRESSED}");
        assert!(links.iter().all(|(href, _)| *href != suppressed));
        assert!(links.iter().all(|(_, title)| !title.is_empty()));
    }

    #[test]
    fn a_code_is_encoded_in_the_link_and_escaped_in_the_svg() {
        assert_eq!(drill_down_href("T-1&x"), "/hr/groups?workplace=T%2D1%26x");
        let mut results = wave();
        results.groups[1].workplace = Some("A&B".to_string());
        results.groups[1].name = "<課>".to_string();
        let svg = heatmap(&results, Lang::En);
        let document = parse(&svg);
        assert!(document
            .descendants()
            .any(|n| n.attribute("href") == Some("/hr/groups?workplace=A%26B")));
        assert!(document
            .descendants()
            .any(|n| n.has_tag_name("title") && n.text().is_some_and(|t| t.starts_with("<課>"))));
    }

    #[test]
    fn job_level_cuts_are_rows_of_their_own_without_links() {
        let svg = job_level_heatmap(&wave(), None, Lang::Ja);
        let document = parse(&svg);
        assert!(has_text(&document, "組織全体・manager"), "{svg}");
        assert!(!has_text(&document, "総務課"), "no workplace rows");
        assert!(has_text(&document, "3.90"));
        assert_eq!(
            document
                .descendants()
                .filter(|n| n.has_tag_name("a"))
                .count(),
            0
        );
        let plain = heatmap(&wave(), Lang::Ja);
        assert!(
            !has_text(&parse(&plain), "manager"),
            "cuts stay out of the groups' heatmap"
        );
    }

    #[test]
    fn column_labels_are_the_dimension_names() {
        let svg = heatmap(&wave(), Lang::En);
        let document = parse(&svg);
        assert!(has_text(&document, "Psychological safety"));
        assert!(has_text(&document, "Organisation"));
    }

    #[test]
    fn the_colour_meaning_is_inverted_where_lower_is_better() {
        assert_eq!(cell_colour(80.0, false), cell_colour(20.0, true));
        assert_eq!(cell_colour(100.0, true).0, FAVOURABLE_COLOUR);
        assert_eq!(cell_colour(100.0, false).0, CONCERN_COLOUR);
        assert_eq!(cell_colour(50.0, true), (NEUTRAL_COLOUR, false));
    }
}
