package org.alphawatch.plot;

import java.util.Locale;
import org.alphawatch.core.fit.PowerLawFit;

/** The log-log spectrum picture, as SVG and as a terminal sketch; one source for both. */
public final class SpectrumPlots {
    private SpectrumPlots() {}

    /** Log-log spectrum with the fitted line (solid on the window, dashed beyond) and the window shaded. */
    public static String svg(String title, double[] eigenvalues, PowerLawFit fit) {
        int k = eigenvalues.length;
        double[] ranks = new double[k];
        double[] values = new double[k];
        for (int i = 0; i < k; i++) {
            ranks[i] = i + 1;
            values[i] = Math.abs(eigenvalues[i]);
        }
        SvgPlot plot = new SvgPlot(title, "rank n", "eigenvalue (variance)", SvgPlot.Scale.LOG, SvgPlot.Scale.LOG)
                .points("eigenvalues", ranks, values, SvgPlot.PALETTE[0]);
        if (fit != null && fit.ok()) {
            plot.shadeX(fit.window().lo(), fit.window().hi(), "fit window " + fit.window());
            plot.line(String.format(Locale.ROOT, "fit alpha = %.3f, r2 = %.3f", fit.alpha(), fit.r2()),
                    new double[] {fit.window().lo(), fit.window().hi()},
                    new double[] {fit.predict(fit.window().lo()), fit.predict(fit.window().hi())},
                    SvgPlot.PALETTE[1], false);
            plot.line(null, new double[] {1, k}, new double[] {fit.predict(1), fit.predict(k)}, SvgPlot.PALETTE[1], true);
        }
        return plot.render(640, 420);
    }

    /**
     * A character sketch of the log-log spectrum: {@code *} eigenvalues, {@code .} the fitted line,
     * {@code |} the window's ends on the rank axis.
     */
    public static String terminal(double[] eigenvalues, PowerLawFit fit, int width, int height) {
        int k = eigenvalues.length;
        double ymin = Double.POSITIVE_INFINITY;
        double ymax = Double.NEGATIVE_INFINITY;
        for (double v : eigenvalues) {
            if (v > 0) {
                ymin = Math.min(ymin, Math.log10(v));
                ymax = Math.max(ymax, Math.log10(v));
            }
        }
        if (k < 2 || !(ymax > Double.NEGATIVE_INFINITY)) {
            return "  (no positive eigenvalues to plot)\n";
        }
        if (ymax - ymin < 1e-9) {
            ymin -= 0.5;
            ymax += 0.5;
        }
        double xmax = Math.log10(k);
        char[][] grid = new char[height][width];
        for (char[] row : grid) {
            java.util.Arrays.fill(row, ' ');
        }
        if (fit != null && fit.ok()) {
            for (int c = 0; c < width; c++) {
                double lx = xmax * c / (width - 1);
                double ly = (fit.intercept() - fit.alpha() * lx * Math.log(10)) / Math.log(10);
                int r = row(ly, ymin, ymax, height);
                if (r >= 0 && r < height) {
                    grid[r][c] = '.';
                }
            }
        }
        for (int i = 0; i < k; i++) {
            if (eigenvalues[i] > 0) {
                int c = (int) Math.round(Math.log10(i + 1) / xmax * (width - 1));
                int r = row(Math.log10(eigenvalues[i]), ymin, ymax, height);
                grid[Math.max(0, Math.min(height - 1, r))][c] = '*';
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < height; r++) {
            String label = r == 0 ? String.format(Locale.ROOT, "%8.1e", Math.pow(10, ymax))
                    : r == height - 1 ? String.format(Locale.ROOT, "%8.1e", Math.pow(10, ymin)) : "        ";
            sb.append("  ").append(label).append(" |").append(grid[r]).append('\n');
        }
        char[] axis = new char[width];
        java.util.Arrays.fill(axis, '-');
        if (fit != null && fit.ok()) {
            axis[(int) Math.round(Math.log10(fit.window().lo()) / xmax * (width - 1))] = '|';
            axis[(int) Math.round(Math.log10(Math.min(k, fit.window().hi())) / xmax * (width - 1))] = '|';
        }
        sb.append("           +").append(axis).append('\n');
        String right = "rank " + k;
        sb.append("           1").append(" ".repeat(Math.max(1, width - right.length()))).append(right).append('\n');
        return sb.toString();
    }

    private static int row(double logValue, double ymin, double ymax, int height) {
        return (int) Math.round((ymax - logValue) / (ymax - ymin) * (height - 1));
    }
}
