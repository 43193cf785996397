package org.alphawatch.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.alphawatch.alert.Alert;

/**
 * The demo's alerts sorted against its scripted event: alerts on the event's layer at or after the
 * event's step caught it; alerts on the event's other layers after it are its consequences (the
 * next layers see half as many live inputs); every other alert is a false alarm.
 */
public record DemoAlerts(AutoencoderDemo.Event event, List<Alert> caught, List<Alert> consequences,
                         List<Alert> falseAlarms) {

    public static DemoAlerts classify(AutoencoderDemo.Settings s, List<Alert> alerts) {
        AutoencoderDemo.Event e = s.event();
        String run = e == null ? null : AutoencoderDemo.runName(s.dropouts()[e.model()]);
        String layer = e == null ? null : AutoencoderDemo.layerName(e.hidden());
        List<Alert> caught = new ArrayList<>();
        List<Alert> consequences = new ArrayList<>();
        List<Alert> falseAlarms = new ArrayList<>();
        for (Alert a : alerts) {
            boolean after = e != null && a.run().equals(run) && a.step() >= e.step();
            if (after && a.layer().equals(layer)) {
                caught.add(a);
            } else if (after) {
                consequences.add(a);
            } else {
                falseAlarms.add(a);
            }
        }
        return new DemoAlerts(e, caught, consequences, falseAlarms);
    }

    /** The first alert that caught the event, or null. */
    public Alert first() {
        return caught.stream().min((a, b) -> Long.compare(a.step(), b.step())).orElse(null);
    }

    /** Markdown for report.md (also printed at the end of the demo). */
    public String markdown(AutoencoderDemo.Settings s) {
        StringBuilder sb = new StringBuilder();
        if (event == null) {
            sb.append("No scripted event (`--no-event`).\n\n");
        } else {
            sb.append("Scripted event: ").append(event.describe(s)).append(".\n\n");
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
                sb.append(String.format(Locale.ROOT, "- consequence on %s/%s: `%s` at step %d%n", a.run(), a.layer(),
                        a.kind().label(), a.step()));
            }
        }
        sb.append(String.format(Locale.ROOT, "- **False alarms: %d** (alerts anywhere else, over all %d models and the "
                + "whole run)%n", falseAlarms.size(), s.dropouts().length));
        for (Alert a : falseAlarms) {
            sb.append(String.format(Locale.ROOT, "  - %s at step %d: %s%n", a.kind().label(), a.step(), a.message()));
        }
        return sb.toString();
    }
}
