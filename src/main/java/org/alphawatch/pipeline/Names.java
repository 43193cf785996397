package org.alphawatch.pipeline;

import java.util.regex.Pattern;

/**
 * Run and layer names become metric labels, URL segments and (with durability) parts of file
 * names, so they are restricted before anything else sees them: 1 to 64 characters from
 * {@code [A-Za-z0-9._-]}, starting with a letter or digit.
 */
public final class Names {
    public static final int MAX_LENGTH = 64;
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private Names() {}

    public static boolean valid(String name) {
        return name != null && VALID.matcher(name).matches();
    }

    /** Throws {@link IllegalArgumentException} naming what is wrong. */
    public static void check(String what, String name) {
        if (!valid(name)) {
            String shown = name == null ? "null" : name.length() > 80 ? name.substring(0, 80) + "..." : name;
            throw new IllegalArgumentException(what + " name '" + shown + "' is invalid: use 1-" + MAX_LENGTH
                    + " characters from A-Z a-z 0-9 . _ - starting with a letter or digit");
        }
    }
}
