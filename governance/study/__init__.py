"""The generated A15 data-lake opportunity study: facts from the lake (`model`, `history`,
`estimate`), the editable cost model (`cost`), the recommendations (`rules`), and its French
HTML and Markdown (`render`, `svg`, `format`); `build` puts them together."""
