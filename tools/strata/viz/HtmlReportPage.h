//===- HtmlReportPage.h - The HTML report's style and script ----*- C++ -*-===//
//
// The fixed parts of the report page, kept apart from the code that writes
// a plan's data so that each reads on its own. The script reads the JSON in
// <script id="plan-data"> (its layout is described in HtmlReport.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_HTMLREPORTPAGE_H
#define STRATA_TOOLS_VIZ_HTMLREPORTPAGE_H

namespace strata::viz {

extern const char HtmlReportStyle[];
extern const char HtmlReportScript[];

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_HTMLREPORTPAGE_H
