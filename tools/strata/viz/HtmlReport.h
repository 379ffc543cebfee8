//===- HtmlReport.h - A plan as one self-contained web page -----*- C++ -*-===//
//
// One HTML file that needs nothing but a browser (no network, no external
// script, font or image): memory per device as stacked bars, which device
// holds each layer, the KV-cache distribution, the arena timeline of each
// device and program (buffers as rectangles: x the live range in steps, y
// the offset), fallbacks, predicted times, and a searchable table of every
// buffer. The summaries are inline SVG and tables written here; the
// timeline and the buffer table are drawn on demand by an inline script
// from compact column-wise JSON, so that a plan of tens of thousands of
// buffers stays small and quick to open.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_HTMLREPORT_H
#define STRATA_TOOLS_VIZ_HTMLREPORT_H

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::plan {
struct Plan;
} // namespace strata::plan

namespace strata::viz {

void writeHtmlReport(llvm::raw_ostream &OS, const plan::Plan &P);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_HTMLREPORT_H
