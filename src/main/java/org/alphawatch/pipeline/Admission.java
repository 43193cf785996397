package org.alphawatch.pipeline;

/** The monitor's answer to an offered batch: accepted, or refused with a reason and a precise message. */
public record Admission(RejectReason reason, String message) {
    private static final Admission ACCEPTED = new Admission(null, "accepted");

    public static Admission accepted() {
        return ACCEPTED;
    }

    public static Admission rejected(RejectReason reason, String message) {
        return new Admission(reason, message);
    }

    public boolean ok() {
        return reason == null;
    }
}
