package org.alphawatch.plot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small self-contained SVG chart: linear or log axes, point and line series, a shaded x-range and
 * a shaded band between two curves. Non-positive values are skipped on log axes; NaN is skipped
 * everywhere. No external fonts, scripts or styles, so files open anywhere offline.
 */
public final class SvgPlot {
    public enum Scale { LINEAR, LOG }

    /** A colour-blind-safe palette (Okabe and Ito). */
    public static final String[] PALETTE = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
        "#F0E442", "#000000"};

    private record Series(String name, double[] x, double[] y, String color, boolean points, boolean dashed) {}

    private record Band(double[] x, double[] lo, double[] hi, String color) {}

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final Scale xScale;
    private final Scale yScale;
    private final List<Series> series = new ArrayList<>();
    private final List<Band> bands = new ArrayList<>();
    private double shadeLo = Double.NaN;
    private double shadeHi = Double.NaN;
    private String shadeLabel;

    public SvgPlot(String title, String xLabel, String yLabel, Scale xScale, Scale yScale) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.xScale = xScale;
        this.yScale = yScale;
    }

    public SvgPlot points(String name, double[] x, double[] y, String color) {
        series.add(new Series(name, x.clone(), y.clone(), color, true, false));
        return this;
    }

    public SvgPlot line(String name, double[] x, double[] y, String color, boolean dashed) {
        series.add(new Series(name, x.clone(), y.clone(), color, false, dashed));
        return this;
    }

    public SvgPlot band(double[] x, double[] lo, double[] hi, String color) {
        bands.add(new Band(x.clone(), lo.clone(), hi.clone(), color));
        return this;
    }

    public SvgPlot shadeX(double lo, double hi, String label) {
        shadeLo = lo;
        shadeHi = hi;
        shadeLabel = label;
        return this;
    }

    private boolean usable(double v, Scale s) {
        return Double.isFinite(v) && (s == Scale.LINEAR || v > 0);
    }

    private static double t(double v, Scale s) {
        return s == Scale.LOG ? Math.log10(v) : v;
    }

    public String render(int width, int height) {
        double[] xr = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        double[] yr = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (usable(s.x[i], xScale) && usable(s.y[i], yScale)) {
                    extend(xr, t(s.x[i], xScale));
                    extend(yr, t(s.y[i], yScale));
                }
            }
        }
        for (Band b : bands) {
            for (int i = 0; i < b.x.length; i++) {
                if (usable(b.x[i], xScale) && usable(b.lo[i], yScale) && usable(b.hi[i], yScale)) {
                    extend(yr, t(b.lo[i], yScale));
                    extend(yr, t(b.hi[i], yScale));
                }
            }
        }
        if (xr[0] > xr[1]) {
            xr = new double[] {0, 1};
            yr = new double[] {0, 1};
        }
        pad(xr, xScale);
        pad(yr, yScale);
        int left = 70;
        int right = 20;
        int top = 36;
        int bottom = 50;
        int pw = width - left - right;
        int ph = height - top - bottom;
        final double[] fx = xr;
        final double[] fy = yr;
        java.util.function.DoubleUnaryOperator px = v -> left + (t(v, xScale) - fx[0]) / (fx[1] - fx[0]) * pw;
        java.util.function.DoubleUnaryOperator py = v -> top + ph - (t(v, yScale) - fy[0]) / (fy[1] - fy[0]) * ph;

        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\" font-weight=\"bold\">%s</text>%n",
                left, esc(title)));
        if (Double.isFinite(shadeLo) && usable(shadeLo, xScale) && usable(shadeHi, xScale)) {
            double a = clamp(px.applyAsDouble(shadeLo), left, left + pw);
            double b = clamp(px.applyAsDouble(shadeHi), left, left + pw);
            sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#eeeeee\"/>%n",
                    a, top, Math.max(0, b - a), ph));
            if (shadeLabel != null) {
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#666\">%s</text>%n", a + 4,
                        top + 14, esc(shadeLabel)));
            }
        }
        axes(sb, xr, yr, left, top, pw, ph);
        for (Band b : bands) {
            StringBuilder up = new StringBuilder();
            StringBuilder down = new StringBuilder();
            for (int i = 0; i < b.x.length; i++) {
                if (usable(b.x[i], xScale) && usable(b.lo[i], yScale) && usable(b.hi[i], yScale)) {
                    up.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(b.x[i]), py.applyAsDouble(b.hi[i])));
                    down.insert(0, String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(b.x[i]), py.applyAsDouble(b.lo[i])));
                }
            }
            if (up.length() > 0) {
                sb.append("<polygon fill=\"").append(b.color).append("\" fill-opacity=\"0.2\" stroke=\"none\" points=\"")
                        .append(up).append(down).append("\"/>\n");
            }
        }
        int legendY = top + 14;
        for (Series s : series) {
            if (s.points) {
                sb.append("<g fill=\"").append(s.color).append("\">");
                for (int i = 0; i < s.x.length; i++) {
                    if (usable(s.x[i], xScale) && usable(s.y[i], yScale)) {
                        sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>",
                                px.applyAsDouble(s.x[i]), py.applyAsDouble(s.y[i])));
                    }
                }
                sb.append("</g>\n");
            } else {
                StringBuilder pts = new StringBuilder();
                for (int i = 0; i < s.x.length; i++) {
                    if (usable(s.x[i], xScale) && usable(s.y[i], yScale)) {
                        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(s.x[i]), py.applyAsDouble(s.y[i])));
                    }
                }
                sb.append("<polyline fill=\"none\" stroke=\"").append(s.color).append("\" stroke-width=\"1.8\"")
                        .append(s.dashed ? " stroke-dasharray=\"5,4\"" : "").append(" points=\"").append(pts).append("\"/>\n");
            }
            if (s.name != null && !s.name.isEmpty()) {
                int lx = left + pw - 190;
                sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                        + "<text x=\"%d\" y=\"%d\">%s</text>%n", lx, legendY - 4, s.color, lx + 18, legendY, esc(s.name)));
                legendY += 16;
            }
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private void axes(StringBuilder sb, double[] xr, double[] yr, int left, int top, int pw, int ph) {
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>%n",
                left, top, pw, ph));
        for (double tv : ticks(xr, xScale)) {
            double x = left + (tv - xr[0]) / (xr[1] - xr[0]) * pw;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    x, top, x, top + ph, x, top + ph + 16, label(tv, xScale)));
        }
        for (double tv : ticks(yr, yScale)) {
            double y = top + ph - (tv - yr[0]) / (yr[1] - yr[0]) * ph;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    left, y, left + pw, y, left - 6, y + 4, label(tv, yScale)));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                left + pw / 2, top + ph + 38, esc(xLabel)));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>%n",
                top + ph / 2, esc(yLabel)));
    }

    private static List<Double> ticks(double[] r, Scale s) {
        List<Double> out = new ArrayList<>();
        if (s == Scale.LOG) {
            for (double d = Math.ceil(r[0]); d <= r[1] + 1e-9; d++) {
                out.add(d);
            }
            if (out.size() > 8) {
                int step = (int) Math.ceil(out.size() / 8.0);
                List<Double> thin = new ArrayList<>();
                for (int i = 0; i < out.size(); i += step) {
                    thin.add(out.get(i));
                }
                return thin;
            }
            return out;
        }
        double span = r[1] - r[0];
        double raw = span / 6;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = Math.ceil(r[0] / step) * step; v <= r[1] + step * 1e-9; v += step) {
            out.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        }
        return out;
    }

    private static String label(double tv, Scale s) {
        if (s == Scale.LOG) {
            long e = Math.round(tv);
            return e >= 0 && e <= 4 ? String.valueOf((long) Math.pow(10, e)) : "1e" + e;
        }
        double a = Math.abs(tv);
        if (a != 0 && (a >= 1e5 || a < 1e-3)) {
            return String.format(Locale.ROOT, "%.1e", tv);
        }
        String text = String.format(Locale.ROOT, "%.4f", tv);
        return text.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    private static void extend(double[] r, double v) {
        r[0] = Math.min(r[0], v);
        r[1] = Math.max(r[1], v);
    }

    private static void pad(double[] r, Scale s) {
        if (r[1] - r[0] < 1e-12) {
            double d = s == Scale.LOG ? 0.5 : Math.max(1e-9, Math.abs(r[0]) * 0.1 + 0.5);
            r[0] -= d;
            r[1] += d;
        } else {
            double d = (r[1] - r[0]) * 0.04;
            r[0] -= d;
            r[1] += d;
        }
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
