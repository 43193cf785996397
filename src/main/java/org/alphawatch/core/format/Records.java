package org.alphawatch.core.format;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Objects;

/**
 * Content equality for records that hold arrays, written once: a record's own {@code equals}
 * compares arrays by reference, so a value that holds one must override it, and a hand-written
 * override can forget a component. These compare every component (arrays by content, doubles as
 * {@link Double#compare} does: NaN equals NaN, 0.0 differs from -0.0), through the accessors.
 * Stateless and thread-safe; allocates what the accessors do (copies of arrays).
 */
public final class Records {
    private Records() {}

    /** Whether {@code other} is a record of the same class with equal components. */
    public static boolean equal(Record self, Object other) {
        if (self == other) {
            return true;
        }
        if (other == null || other.getClass() != self.getClass()) {
            return false;
        }
        for (RecordComponent c : self.getClass().getRecordComponents()) {
            if (!Objects.deepEquals(value(c, self), value(c, other))) {
                return false;
            }
        }
        return true;
    }

    /** A hash over every component, consistent with {@link #equal}. */
    public static int hash(Record self) {
        RecordComponent[] cs = self.getClass().getRecordComponents();
        Object[] values = new Object[cs.length];
        for (int i = 0; i < cs.length; i++) {
            values[i] = value(cs[i], self);
        }
        return Arrays.deepHashCode(values);
    }

    private static Object value(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("record component " + c.getName() + " of " + record.getClass()
                    + " is not readable", e);
        }
    }
}
