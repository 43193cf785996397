package org.alphawatch.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.plot.SvgPlot;

/** Writes the demo's report folder: report.md, the summary table and SVG plots. */
public final class DemoReport {
    private DemoReport() {}

    /** The dropout x layer table as fixed-width text (also used in report.md inside a code block). */
    public static String summaryTable(List<AutoencoderDemo.ModelResult> models) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-7s %-5s %4s  %-24s %6s %8s %8s %8s %8s %-7s %9s %6s%n", "dropout",
                "layer", "m", "alpha [95% CI]", "r2", "eff.rank", "probe a", "E slope", "readout", "verdict",
                "(1-D)mb", "rho"));
        for (AutoencoderDemo.ModelResult model : models) {
            for (AutoencoderDemo.LayerResult l : model.layers()) {
                Jackknife.Interval ci = l.report().alphaInterval();
                String alpha = ci != null && ci.defined()
                        ? String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", l.report().alpha(), ci.lo(), ci.hi())
                        : String.format(Locale.ROOT, "%.3f", l.report().alpha());
                sb.append(String.format(Locale.ROOT, "%-7.1f %-5s %4d  %-24s %6.3f %8.2f %8.3f %8.3f %8.3f %-7s %9.0f %6.3f%n",
                        l.dropout(), l.layer(), l.units(), alpha, l.report().fit().r2(),
                        l.report().metrics().effectiveRank(), l.probeReport().alpha(), l.slopeOrNaN(),
                        l.readoutR2(), l.verdict(), l.capacityBits(), l.report().redundancy()));
            }
        }
        return sb.toString();
    }

    /** The system's one-minute load average (NaN where the OS has none): how shared the cores were. */
    static double loadAverage() {
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? Double.NaN : load;
    }

    /** Spearman rank correlation of two equally long series (ties get average ranks). */
    static double spearman(double[] a0, double[] b0) {
        int n = 0;
        for (int i = 0; i < a0.length; i++) {
            if (Double.isFinite(a0[i]) && Double.isFinite(b0[i])) {
                n++;
            }
        }
        if (n < 3) {
            return Double.NaN;
        }
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0, k = 0; i < a0.length; i++) {
            if (Double.isFinite(a0[i]) && Double.isFinite(b0[i])) {
                a[k] = a0[i];
                b[k++] = b0[i];
            }
        }
        double[] ra = ranks(a);
        double[] rb = ranks(b);
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += ra[i] / a.length;
            mb += rb[i] / a.length;
        }
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        return saa == 0 || sbb == 0 ? 0 : sab / Math.sqrt(saa * sbb);
    }

    private static double[] ranks(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int less = 0;
            int equal = 0;
            for (double w : v) {
                if (w < v[i]) {
                    less++;
                } else if (w == v[i]) {
                    equal++;
                }
            }
            r[i] = less + (equal + 1) / 2.0;
        }
        return r;
    }

    /** Per layer: how alpha and the energy slope move with dropout (the paper's first and third claims). */
    public static String trends(List<AutoencoderDemo.ModelResult> models) {
        StringBuilder sb = new StringBuilder();
        int layers = models.get(0).layers().size();
        double[] dropouts = models.stream().mapToDouble(AutoencoderDemo.ModelResult::dropout).toArray();
        for (int h = 0; h < layers; h++) {
            final int layer = h;
            double[] alpha = models.stream().mapToDouble(m -> m.layers().get(layer).report().alpha()).toArray();
            double[] slope = models.stream().mapToDouble(m -> m.layers().get(layer).slopeOrNaN()).toArray();
            double[] probeAlpha = models.stream().mapToDouble(m -> m.layers().get(layer).probeReport().alpha()).toArray();
            sb.append(String.format(Locale.ROOT,
                    "- %s: Spearman(dropout, alpha) = %+.2f (alpha %.3f at D=%.1f -> %.3f at D=%.1f); "
                            + "Spearman(probe alpha, energy slope) = %+.2f%n",
                    AutoencoderDemo.layerName(h), spearman(dropouts, alpha), alpha[0], dropouts[0],
                    alpha[alpha.length - 1], dropouts[dropouts.length - 1], spearman(probeAlpha, slope)));
        }
        return sb.toString();
    }

    public static void write(Path dir, List<AutoencoderDemo.ModelResult> models, AutoencoderDemo demo, String command,
                             String settingsText, double seconds, String serverUrl, String alertsMarkdown)
            throws IOException {
        String activation = demo.settings().activation().name().toLowerCase(Locale.ROOT);
        Files.createDirectories(dir);
        int layers = models.get(0).layers().size();
        List<String> spectra = new ArrayList<>();
        List<String> histories = new ArrayList<>();
        List<String> probes = new ArrayList<>();
        List<String> energies = new ArrayList<>();
        for (int h = 0; h < layers; h++) {
            String layer = AutoencoderDemo.layerName(h);
            spectra.add(write(dir, "spectrum-" + layer + ".svg", spectrumPlot(models, h)));
            histories.add(write(dir, "alpha-vs-step-" + layer + ".svg", historyPlot(models, demo, layer)));
            probes.add(write(dir, "probe-" + layer + ".svg", probePlot(models, h)));
            energies.add(write(dir, "energy-" + layer + ".svg", energyPlot(models, h)));
        }
        String byDropout = write(dir, "alpha-vs-dropout.svg", dropoutPlot(models));

        StringBuilder md = new StringBuilder();
        md.append("# alphawatch demo report\n\n");
        md.append("Produced by `").append(command).append("` in ").append(String.format(Locale.ROOT, "%.0f", seconds))
                .append(" s on ").append(Runtime.getRuntime().availableProcessors())
                .append(String.format(Locale.ROOT, " cores (load average %.1f at the end), JDK ", loadAverage()))
                .append(System.getProperty("java.version")).append(".\n\n");
        md.append("Settings: ").append(settingsText).append("\n\n");
        if (serverUrl != null) {
            md.append("While training, the monitor served its API and `/metrics` at ").append(serverUrl).append(".\n\n");
        }
        md.append("## Summary\n\n");
        md.append("Autoencoders 256-128-64-128-256 (" + activation + " hidden units, inverted dropout D after each hidden layer, MSE, Adam) on ")
                .append("generated 16x16 images (blobs, bars, gratings). Each hidden layer is measured after training on ")
                .append("a fixed held-out set (evaluation mode):\n\n");
        md.append("- **alpha [95% CI]**: power-law exponent of the layer's eigenspectrum (jackknife over 10 groups), ")
                .append("fit window [11, min(500, K-2)]; **r2** of that fit; **eff.rank** exp(entropy).\n");
        md.append("- **probe a**: alpha of the layer's responses to the probe (a dot moving on a circle, a 1-D input, ")
                .append("257 points); a smooth code of a 1-D input needs alpha > 3.\n");
        md.append("- **E slope**: slope of log trajectory energy vs log sampling density (16..256 points) in a fixed ")
                .append("random 3-D projection: -1 for a smooth code, 2 - alpha for a rough one; **readout** the ")
                .append("5-fold cross-validated R^2 of (cos, sin) of the probe angle from the projection.\n");
        md.append("- **verdict**: smooth when both tests say smooth, rough when neither does, mixed otherwise; ")
                .append("**(1-D)mb** the dropout capacity bound in bits (b = 8); **rho** the redundancy bound ")
                .append("(alpha of variances).\n\n");
        md.append("```\n").append(summaryTable(models)).append("```\n\n");
        md.append("Trends (Spearman rank correlations over the five dropout rates):\n\n").append(trends(models)).append('\n');
        md.append("Training: ");
        for (AutoencoderDemo.ModelResult m : models) {
            md.append(String.format(Locale.ROOT, "%s eval MSE %.4f (%.0f samples/s, %d batches to the monitor, %d refused); ",
                    m.run(), m.evalLoss(), m.samplesTrained() / m.trainSeconds(), m.batchesSent(), m.batchesRefused()));
        }
        md.append("\n\n## Spectra (log-log, normalized, with fits)\n\n");
        spectra.forEach(f -> md.append("![").append(f).append("](").append(f).append(")\n\n"));
        md.append("## alpha during training (the monitor's mature sliding windows)\n\n");
        md.append("Each point is a mature snapshot of the monitor's sliding window (16 samples per unit, 8 panes; ")
                .append("mature from 10 samples per unit), with its jackknife interval over the panes.\n\n");
        histories.forEach(f -> md.append("![").append(f).append("](").append(f).append(")\n\n"));
        md.append("## Alerts\n\n").append(alertsMarkdown).append('\n');
        md.append("## alpha vs dropout\n\n![").append(byDropout).append("](").append(byDropout).append(")\n\n");
        md.append("## Probe trajectories (random projection, first two coordinates, unit RMS)\n\n");
        probes.forEach(f -> md.append("![").append(f).append("](").append(f).append(")\n\n"));
        md.append("## Trajectory energy vs sampling density\n\n");
        energies.forEach(f -> md.append("![").append(f).append("](").append(f).append(")\n\n"));
        md.append("See docs/reproduction.md for what these numbers say about the paper's claims.\n");
        Files.writeString(dir.resolve("report.md"), md.toString());
    }

    private static String write(Path dir, String name, String svg) throws IOException {
        Files.writeString(dir.resolve(name), svg);
        return name;
    }

    private static String color(int i) {
        return SvgPlot.PALETTE[i % SvgPlot.PALETTE.length];
    }

    private static String spectrumPlot(List<AutoencoderDemo.ModelResult> models, int h) {
        SvgPlot plot = new SvgPlot("Eigenspectrum of " + AutoencoderDemo.layerName(h) + " by dropout", "rank n",
                "normalized eigenvalue", SvgPlot.Scale.LOG, SvgPlot.Scale.LOG);
        for (int i = 0; i < models.size(); i++) {
            AutoencoderDemo.LayerResult l = models.get(i).layers().get(h);
            double[] ev = l.report().spectrum().normalized();
            double[] ranks = new double[ev.length];
            for (int r = 0; r < ev.length; r++) {
                ranks[r] = r + 1;
            }
            plot.points(String.format(Locale.ROOT, "D=%.1f alpha=%.2f", l.dropout(), l.report().alpha()), ranks, ev,
                    color(i));
            var fit = l.report().fit();
            if (fit.ok()) {
                double trace = l.report().spectrum().trace();
                plot.line(null, new double[] {fit.window().lo(), fit.window().hi()},
                        new double[] {fit.predict(fit.window().lo()) / trace, fit.predict(fit.window().hi()) / trace},
                        color(i), false);
            }
        }
        return plot.render(680, 460);
    }

    private static String historyPlot(List<AutoencoderDemo.ModelResult> models, AutoencoderDemo demo, String layer) {
        SvgPlot plot = new SvgPlot("alpha of " + layer + " during training", "training step", "alpha",
                SvgPlot.Scale.LINEAR, SvgPlot.Scale.LINEAR);
        for (int i = 0; i < models.size(); i++) {
            List<double[]> points = demo.alphaHistory(models.get(i).run(), layer);
            double[] x = points.stream().mapToDouble(p -> p[0]).toArray();
            double[] y = points.stream().mapToDouble(p -> p[1]).toArray();
            double[] lo = points.stream().mapToDouble(p -> p[2]).toArray();
            double[] hi = points.stream().mapToDouble(p -> p[3]).toArray();
            plot.band(x, lo, hi, color(i));
            plot.line(String.format(Locale.ROOT, "D=%.1f", models.get(i).dropout()), x, y, color(i), false);
        }
        AutoencoderDemo.Event event = demo.settings().event();
        if (event != null && AutoencoderDemo.layerName(event.hidden()).equals(layer)) {
            plot.shadeX(event.step(), event.step() + 1, String.format(Locale.ROOT, "event: half of D=%.1f's units die",
                    demo.settings().dropouts()[event.model()]));
        }
        return plot.render(680, 420);
    }

    private static String dropoutPlot(List<AutoencoderDemo.ModelResult> models) {
        SvgPlot plot = new SvgPlot("alpha vs dropout, per layer (95% jackknife band)", "dropout D", "alpha",
                SvgPlot.Scale.LINEAR, SvgPlot.Scale.LINEAR);
        int layers = models.get(0).layers().size();
        double[] d = models.stream().mapToDouble(AutoencoderDemo.ModelResult::dropout).toArray();
        for (int h = 0; h < layers; h++) {
            final int layer = h;
            ToDoubleFunction<AutoencoderDemo.ModelResult> lo = m -> {
                var ci = m.layers().get(layer).report().alphaInterval();
                return ci != null && ci.defined() ? ci.lo() : Double.NaN;
            };
            ToDoubleFunction<AutoencoderDemo.ModelResult> hi = m -> {
                var ci = m.layers().get(layer).report().alphaInterval();
                return ci != null && ci.defined() ? ci.hi() : Double.NaN;
            };
            plot.band(d, models.stream().mapToDouble(lo).toArray(), models.stream().mapToDouble(hi).toArray(), color(h));
            plot.line(AutoencoderDemo.layerName(h), d,
                    models.stream().mapToDouble(m -> m.layers().get(layer).report().alpha()).toArray(), color(h), false);
        }
        return plot.render(640, 420);
    }

    private static String probePlot(List<AutoencoderDemo.ModelResult> models, int h) {
        SvgPlot plot = new SvgPlot("Probe (dot on a circle) through " + AutoencoderDemo.layerName(h)
                + ": random projection", "projection 1", "projection 2", SvgPlot.Scale.LINEAR, SvgPlot.Scale.LINEAR);
        for (int i = 0; i < models.size(); i++) {
            AutoencoderDemo.LayerResult l = models.get(i).layers().get(h);
            double[] t = l.trajectory();
            int n = t.length / 3;
            double[] x = new double[n];
            double[] y = new double[n];
            double mx = 0;
            double my = 0;
            for (int p = 0; p < n; p++) {
                mx += t[3 * p] / n;
                my += t[3 * p + 1] / n;
            }
            double rms = 0;
            for (int p = 0; p < n; p++) {
                x[p] = t[3 * p] - mx;
                y[p] = t[3 * p + 1] - my;
                rms += (x[p] * x[p] + y[p] * y[p]) / n;
            }
            rms = Math.sqrt(rms);
            for (int p = 0; p < n; p++) {
                x[p] = rms > 0 ? x[p] / rms : 0;
                y[p] = rms > 0 ? y[p] / rms : 0;
            }
            plot.line(String.format(Locale.ROOT, "D=%.1f (%s)", l.dropout(), l.verdict()), x, y, color(i), false);
        }
        return plot.render(560, 520);
    }

    private static String energyPlot(List<AutoencoderDemo.ModelResult> models, int h) {
        SvgPlot plot = new SvgPlot("Trajectory energy of " + AutoencoderDemo.layerName(h) + " vs sampling density",
                "points on the circle N", "energy E(N)", SvgPlot.Scale.LOG, SvgPlot.Scale.LOG);
        for (int i = 0; i < models.size(); i++) {
            AutoencoderDemo.LayerResult l = models.get(i).layers().get(h);
            if (l.energySlope() == null) {
                continue;
            }
            double[] n = java.util.Arrays.stream(l.energySlope().densities()).asDoubleStream().toArray();
            plot.line(String.format(Locale.ROOT, "D=%.1f slope %.2f", l.dropout(), l.energySlope().slope()), n,
                    l.energySlope().energies(), color(i), false);
        }
        return plot.render(640, 420);
    }
}
