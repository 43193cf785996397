package org.alphawatch.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertKind;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.pipeline.LayerKey;

/**
 * The demo's alerts sorted by what explains them, so that none is filed as a false alarm without
 * a reason. In this order:
 * <ol>
 * <li>the scripted event: alerts on the event's layer at or after its step caught it; alerts on the
 *     event's other layers after it are its consequences (they see half as many live inputs);</li>
 * <li>ended runs: a staleness alert on a run whose model had finished training (the run ended; the
 *     monitor has no "run ended" yet, so it cannot tell);</li>
 * <li>learning: a change of the code (alpha, effective rank, numerical rank, smoothness) raised while
 *     the model trained and borne out by the end of training, i.e. the layer's final mature window is
 *     on the alerted side of the alert's baseline: the code really changed as the network learned;</li>
 * <li>unexplained: everything else (a change that did not last, a refusal surge, ...).</li>
 * </ol>
 */
public record DemoAlerts(AutoencoderDemo.Event event, List<Alert> caught, List<Alert> consequences,
                         List<Alert> endedRuns, List<Finding> learning, List<Alert> unexplained) {

    /** A change of the code during training with the evidence that it was real. */
    public record Finding(Alert alert, double endValue, double lossAtStep, double finalLoss) {}

    /**
     * @param models  the trained models (their last steps, finishing times and loss curves)
     * @param current each layer's last mature spectrum, as the monitor holds it after training
     */
    public static DemoAlerts classify(AutoencoderDemo.Settings s, List<Alert> alerts,
                                      List<AutoencoderDemo.ModelResult> models,
                                      Function<LayerKey, SpectrumReport> current) {
        AutoencoderDemo.Event e = s.event();
        String run = e == null ? null : AutoencoderDemo.runName(s.dropouts()[e.model()]);
        String layer = e == null ? null : AutoencoderDemo.layerName(e.hidden());
        Map<String, AutoencoderDemo.ModelResult> byRun = new java.util.HashMap<>();
        models.forEach(m -> byRun.put(m.run(), m));
        List<Alert> caught = new ArrayList<>();
        List<Alert> consequences = new ArrayList<>();
        List<Alert> ended = new ArrayList<>();
        List<Finding> learning = new ArrayList<>();
        List<Alert> unexplained = new ArrayList<>();
        for (Alert a : alerts) {
            AutoencoderDemo.ModelResult model = byRun.get(a.run());
            boolean after = e != null && a.run().equals(run) && a.step() >= e.step();
            if (after && a.layer().equals(layer)) {
                caught.add(a);
            } else if (after) {
                consequences.add(a);
            } else if (a.kind() == AlertKind.STALE_LAYER && model != null && model.finishedAtMillis() <= a.timeMillis()) {
                ended.add(a);
            } else if (model != null && a.step() >= 1 && a.step() <= model.lastStep()) {
                SpectrumReport end = current.apply(new LayerKey(a.run(), a.layer()));
                double endValue = end == null ? Double.NaN : endValue(a.kind(), end);
                if ((endValue - a.baseline()) * (a.value() - a.baseline()) > 0) {
                    learning.add(new Finding(a, endValue, model.lossAt(a.step()), model.lossAt(model.lastStep())));
                } else {
                    unexplained.add(a);
                }
            } else {
                unexplained.add(a);
            }
        }
        return new DemoAlerts(e, caught, consequences, ended, learning, unexplained);
    }

    /** The quantity an alert of this kind compares (its value), measured on a spectrum; NaN for other kinds. */
    static double endValue(AlertKind kind, SpectrumReport r) {
        return switch (kind) {
            case ALPHA_SHIFT, SMOOTHNESS_CROSSING -> r.alpha();
            case EFFECTIVE_RANK_COLLAPSE -> r.metrics().effectiveRank();
            case RANK_DROP -> r.spectrum().numericalRank();
            default -> Double.NaN;
        };
    }

    /** The first alert that caught the event, or null. */
    public Alert first() {
        return caught.stream().min((a, b) -> Long.compare(a.step(), b.step())).orElse(null);
    }

    /** Markdown for report.md (also printed at the end of the demo). */
    public String markdown(AutoencoderDemo.Settings s) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%d alerts over the %d models: %d on the scripted event, %d for changes of "
                + "the code while the networks learned, %d for runs that had ended, **%d unexplained**.%n%n",
                caught.size() + consequences.size() + endedRuns.size() + learning.size() + unexplained.size(),
                s.dropouts().length, caught.size() + consequences.size(), learning.size(), endedRuns.size(),
                unexplained.size()));
        sb.append("**The scripted event.** ");
        if (event == null) {
            sb.append("None (`--no-event`).\n");
        } else {
            sb.append(capitalize(event.describe(s))).append(".\n");
            Alert first = first();
            if (first == null) {
                sb.append("- **Not caught** by the end of training.\n");
            } else {
                long steps = first.step() - event.step();
                sb.append(String.format(Locale.ROOT, "- **Caught** by `%s` at step %d: %d steps (about %.0f samples of "
                        + "that layer) after the event.%n  > %s%n", first.kind().label(), first.step(), steps,
                        steps * s.rowsPerStep(), first.message()));
                for (Alert a : caught) {
                    if (a != first) {
                        sb.append(String.format(Locale.ROOT, "- also `%s` at step %d%n", a.kind().label(), a.step()));
                    }
                }
            }
            for (Alert a : consequences) {
                sb.append(String.format(Locale.ROOT, "- consequence on %s/%s (downstream of the dead units): `%s` at "
                        + "step %d%n", a.run(), a.layer(), a.kind().label(), a.step()));
            }
        }
        sb.append("\n**Changes of the code while the networks learned** (findings, not false alarms: raised during "
                + "training, and the layer's final window is still on the alerted side of the alert's baseline)");
        sb.append(learning.isEmpty() ? ": none.\n" : ":\n");
        for (Finding f : learning) {
            Alert a = f.alert();
            sb.append(String.format(Locale.ROOT, "- step %d, %s/%s, `%s`: %.3f -> %.3f, %.3f at the end of training "
                    + "(training loss %.4f then, %.4f at the end)%n", a.step(), a.run(), a.layer(), a.kind().label(),
                    a.baseline(), a.value(), f.endValue(), f.lossAtStep(), f.finalLoss()));
        }
        if (!endedRuns.isEmpty()) {
            sb.append("\n**Runs that had ended** (each model ends its run when it finishes, so the monitor raises no "
                    + "staleness for it: an alert here means that end did not reach the monitor):\n");
            for (Alert a : endedRuns) {
                sb.append(String.format(Locale.ROOT, "- %s/%s: `%s`, %s%n", a.run(), a.layer(), a.kind().label(),
                        a.message()));
            }
        }
        sb.append(String.format(Locale.ROOT, "%n**Unexplained alerts: %d**%s%n", unexplained.size(),
                unexplained.isEmpty() ? "." : " (neither the event, nor a lasting change during training, nor an ended run):"));
        for (Alert a : unexplained) {
            sb.append(String.format(Locale.ROOT, "- `%s` at step %d: %s%n", a.kind().label(), a.step(), a.message()));
        }
        return sb.toString();
    }

    private static String capitalize(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }
}
