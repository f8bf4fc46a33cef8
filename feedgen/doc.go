// Package feedgen turns a CYBERBIZ product export (.xlsx) into the static
// product catalog that LINE live shopping, LINE購物, Google Merchant Center and
// Meta fetch.
//
// The pipeline has one file per stage:
//   - config.go: settings, from defaults and a TOML file;
//   - export.go: products gathered from the export's variant rows, which
//     the streaming reader of package feedgen/internal/xlsx reads, and
//     regroup.go: the same for exports whose products' rows are apart;
//   - eligibility.go: the platform's rules (public, on sale, no excluded
//     tag) and why a product is out;
//   - catalog.go: eligible products mapped onto feed fields, and
//     category.go: their LINE categories, with ids that stay the same;
//   - text.go: export text made fit for the feeds: cleaned of what XML
//     forbids, HTML turned into plain text, white space folded;
//   - sanitize.go: 商品介紹 HTML made safe for LINE's page (bluemonday,
//     behind a one-pass check for the HTML it can prove safe);
//   - feed.go, feed_table.go, category.go, preview.go: the catalog files
//     (Google RSS and text feed, Meta CSV, LINE JSON and its category
//     file, the preview page);
//   - report.go: the run's report, in JSON and Markdown, hints, and how
//     messages show a path (DisplayPath);
//   - output.go (and output_linux.go): atomic replacement of the files
//     behind a safety guard;
//   - run.go and explain.go: the one-shot pipeline and its explanation;
//   - publish.go and github.go: committing to a branch, GitHub Actions;
//   - daemon.go, watch.go, serve.go: the schedule, the watched export
//     folder, and the catalog over HTTP; recovery.go: what a failed run
//     calls for (a retry, or a new export).
package feedgen
