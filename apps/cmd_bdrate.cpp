// `fxic bdrate`: Bjøntegaard deltas of RD curves against anchor curves.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/rd_bdrate.h"
#include "apps/rd_curve.h"

namespace fxic::cli {
namespace {

constexpr char kHelp[] =
    "Usage: fxic bdrate --anchor A.json[,A2.json...] B.json [C.json ...]\n"
    "\n"
    "Bjontegaard deltas of each curve B, C, ... against each anchor: BD-rate\n"
    "(percent bits saved at equal quality; negative is better) and BD-PSNR /\n"
    "BD-MS-SSIM (dB gained at equal rate; positive is better), on PSNR over\n"
    "RGB and on MS-SSIM in dB (-10 log10(1 - MS-SSIM) of the averaged\n"
    "MS-SSIM). Curves are interpolated by monotone piecewise cubics (PCHIP)\n"
    "and compared over their overlapping range. Input files use CompressAI's\n"
    "results schema (what 'fxic eval' writes).\n"
    "\n"
    "Options:\n"
    "  -a, --anchor LIST   anchor curve(s), comma-separated (required)\n"
    "      --matrix        one table: rows = curves, columns = anchors, cells "
    "=\n"
    "                      BD-rate on --metric\n"
    "      --metric M      psnr (default) or ms-ssim, for --matrix\n"
    "      --format F      text (default), markdown or csv\n"
    "      --trapezoid     integrate 100 samples by the trapezoid rule, as "
    "the\n"
    "                      common Python bd_rate(piecewise=1), instead of "
    "exactly\n"
    "  -h, --help          this help\n"
    "\n"
    "A cell is empty when the curves do not overlap or lack the metric.\n"
    "Exit status: 0 success, 1 error (unreadable file), 2 bad command line.\n";

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const size_t end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

void PrintTable(const Table& t, const std::string& format) {
  if (format == "csv") {
    auto line = [](const std::vector<std::string>& cells) {
      std::string s;
      for (size_t i = 0; i < cells.size(); ++i) {
        const bool quote = cells[i].find_first_of(",\"") != std::string::npos;
        std::string c = cells[i];
        if (quote) {
          std::string q = "\"";
          for (char ch : c)
            q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
          c = q + "\"";
        }
        s += (i ? "," : "") + c;
      }
      std::printf("%s\n", s.c_str());
    };
    line(t.header);
    for (const auto& r : t.rows) line(r);
    return;
  }
  std::vector<size_t> width(t.header.size(), 0);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      // Count UTF-8 code points, not bytes, so "−" aligns.
      size_t n = 0;
      for (unsigned char ch : cells[i]) n += (ch & 0xC0) != 0x80;
      width[i] = std::max(width[i], n);
    }
  };
  measure(t.header);
  for (const auto& r : t.rows) measure(r);
  const bool md = format == "markdown";
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = md ? "| " : "";
    for (size_t i = 0; i < cells.size(); ++i) {
      size_t n = 0;
      for (unsigned char ch : cells[i]) n += (ch & 0xC0) != 0x80;
      const std::string pad(width[i] - n, ' ');
      s += i == 0 ? cells[i] + pad : pad + cells[i];
      if (i + 1 < cells.size()) s += md ? " | " : "  ";
    }
    if (md) s += " |";
    std::printf("%s\n", s.c_str());
  };
  line(t.header);
  if (md) {
    std::string s = "|";
    for (size_t i = 0; i < width.size(); ++i) {
      s += i == 0 ? std::string(width[i] + 2, '-')
                  : std::string(width[i] + 1, '-') + ":";
      s += "|";
    }
    std::printf("%s\n", s.c_str());
  }
  for (const auto& r : t.rows) line(r);
}

std::string Fmt(const StatusOr<double>& v, const char* fmt) {
  if (!v.ok()) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), fmt, v.value());
  return buf;
}

}  // namespace

int BdrateMain(int argc, char** argv) {
  Args args({{"-a", "--anchor"}, {"--metric"}, {"--format"}},
            {{"--matrix"}, {"--trapezoid"}, {"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "bdrate");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  const std::vector<std::string> anchor_paths = SplitList(args.Get("-a"));
  if (anchor_paths.empty()) return UsageError("missing --anchor", "bdrate");
  if (args.positional().empty())
    return UsageError("expected curves to compare", "bdrate");
  const std::string format = args.Get("--format", "text");
  if (format != "text" && format != "markdown" && format != "csv") {
    return UsageError("--format must be text, markdown or csv", "bdrate");
  }
  const std::string metric_name = args.Get("--metric", "psnr");
  if (metric_name != "psnr" && metric_name != "ms-ssim") {
    return UsageError("--metric must be psnr or ms-ssim", "bdrate");
  }
  const rd::Metric matrix_metric =
      metric_name == "psnr" ? rd::Metric::kPsnr : rd::Metric::kMsSsimDb;
  const rd::BdIntegration how = args.Has("--trapezoid")
                                    ? rd::BdIntegration::kTrapezoid100
                                    : rd::BdIntegration::kExact;

  std::vector<rd::RdCurve> anchors, tests;
  for (const auto& p : anchor_paths) {
    auto c = rd::ReadRdCurve(p);
    if (!c.ok()) return Fail(c.status().message());
    anchors.push_back(std::move(c).value());
  }
  for (const auto& p : args.positional()) {
    auto c = rd::ReadRdCurve(p);
    if (!c.ok()) return Fail(c.status().message());
    tests.push_back(std::move(c).value());
  }

  auto bd_rate = [&](const rd::RdCurve& a, const rd::RdCurve& t, rd::Metric m) {
    return rd::BdRate(a.bpp, rd::MetricValues(a, m), t.bpp,
                      rd::MetricValues(t, m), how);
  };
  auto bd_metric = [&](const rd::RdCurve& a, const rd::RdCurve& t,
                       rd::Metric m) {
    return rd::BdMetric(a.bpp, rd::MetricValues(a, m), t.bpp,
                        rd::MetricValues(t, m), how);
  };

  if (args.Has("--matrix")) {
    Table t;
    t.header.push_back(std::string("BD-rate, ") + rd::MetricKey(matrix_metric) +
                       ": test \\ anchor");
    for (const auto& a : anchors) t.header.push_back(a.name);
    for (const auto& c : tests) {
      std::vector<std::string> row = {c.name};
      for (const auto& a : anchors)
        row.push_back(Fmt(bd_rate(a, c, matrix_metric), "%+.1f%%"));
      t.rows.push_back(row);
    }
    PrintTable(t, format);
    return kExitOk;
  }
  bool first = true;
  for (const auto& a : anchors) {
    if (!first) std::printf("\n");
    first = false;
    Table t;
    t.header = {"anchor: " + a.name, "BD-rate PSNR", "BD-PSNR [dB]",
                "BD-rate MS-SSIM", "BD-MS-SSIM [dB]"};
    for (const auto& c : tests) {
      t.rows.push_back({c.name,
                        Fmt(bd_rate(a, c, rd::Metric::kPsnr), "%+.2f%%"),
                        Fmt(bd_metric(a, c, rd::Metric::kPsnr), "%+.3f"),
                        Fmt(bd_rate(a, c, rd::Metric::kMsSsimDb), "%+.2f%%"),
                        Fmt(bd_metric(a, c, rd::Metric::kMsSsimDb), "%+.3f")});
    }
    PrintTable(t, format);
  }
  return kExitOk;
}

}  // namespace fxic::cli
