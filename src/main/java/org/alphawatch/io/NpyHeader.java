package org.alphawatch.io;

import org.alphawatch.core.format.Records;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed and validated {@code .npy} header (format versions 1.0, 2.0 and 3.0): the element type,
 * byte order, memory order and shape. Parsing trusts nothing: every key, type and size is checked
 * and the error names the source and the problem.
 */
public record NpyHeader(int major, int minor, NpyType type, ByteOrder order, boolean fortranOrder, long[] shape,
                        int dataOffset) {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Headers longer than this are refused before they are read (numpy itself caps at 10,000 bytes by default). */
    public static final int MAX_HEADER_BYTES = 65_536;
    private static final int MAX_NDIM = 32;

    public NpyHeader {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes of array data the header declares. */
    public long dataBytes() {
        return Math.multiplyExact(elementCount(), type.size());
    }

    public String shapeText() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(shape[i]).append(i == 0 && shape.length == 1 ? "," : i + 1 < shape.length ? ", " : "");
        }
        return sb.append(')').toString();
    }

    public String descr() {
        return (type.size() == 1 ? "|" : order == ByteOrder.BIG_ENDIAN ? ">" : "<") + type.code();
    }

    /** Number of bytes needed before {@link #parse} can run: the magic, version and length fields. */
    static int preambleBytes(byte[] first10, String source) throws NpyFormatException {
        if (first10.length < 10) {
            throw new NpyFormatException(source, "only " + first10.length + " bytes: too short for a .npy header");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (first10[i] != MAGIC[i]) {
                throw new NpyFormatException(source, NpyFormatException.Kind.NOT_NPY,
                        "not a .npy file (magic bytes \\x93NUMPY missing)");
            }
        }
        int major = first10[6] & 0xff;
        if (major == 1) {
            return 10;
        }
        if (major == 2 || major == 3) {
            return 12;
        }
        throw new NpyFormatException(source, "unsupported .npy format version " + major + "." + (first10[7] & 0xff));
    }

    /** Reads the header length from the preamble (10 bytes for v1, 12 for v2/v3). */
    static long headerLength(byte[] preamble) {
        int major = preamble[6] & 0xff;
        if (major == 1) {
            return (preamble[8] & 0xff) | ((preamble[9] & 0xff) << 8);
        }
        return (preamble[8] & 0xffL) | ((preamble[9] & 0xffL) << 8) | ((preamble[10] & 0xffL) << 16)
                | ((preamble[11] & 0xffL) << 24);
    }

    /** Parses the header dictionary that follows a preamble. */
    static NpyHeader parse(byte[] preamble, byte[] dictBytes, String source) throws NpyFormatException {
        int major = preamble[6] & 0xff;
        int minor = preamble[7] & 0xff;
        String text = new String(dictBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict = new DictParser(text, source).parseDict();
        for (String key : dict.keySet()) {
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape")) {
                throw new NpyFormatException(source, "unexpected header key '" + key + "'");
            }
        }
        Object descr = require(dict, "descr", source);
        Object fortran = require(dict, "fortran_order", source);
        Object shapeObj = require(dict, "shape", source);
        if (descr instanceof List) {
            throw new NpyFormatException(source, "structured dtype " + descr + " is not supported (need a numeric array)");
        }
        if (!(descr instanceof String d)) {
            throw new NpyFormatException(source, "descr " + descr + " is not a dtype string");
        }
        if (!(fortran instanceof Boolean f)) {
            throw new NpyFormatException(source, "fortran_order " + fortran + " is not True or False");
        }
        if (!(shapeObj instanceof List<?> dims)) {
            throw new NpyFormatException(source, "shape " + shapeObj + " is not a tuple");
        }
        if (dims.size() > MAX_NDIM) {
            throw new NpyFormatException(source, "shape has " + dims.size() + " dimensions (at most " + MAX_NDIM + ")");
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long v) || v < 0) {
                throw new NpyFormatException(source, "shape entry " + dims.get(i) + " is not a non-negative integer");
            }
            shape[i] = v;
        }
        ByteOrder order;
        char prefix = d.isEmpty() ? '?' : d.charAt(0);
        String code;
        switch (prefix) {
            case '<', '=', '|' -> {
                order = ByteOrder.LITTLE_ENDIAN;
                code = d.substring(1);
            }
            case '>' -> {
                order = ByteOrder.BIG_ENDIAN;
                code = d.substring(1);
            }
            default -> {
                order = ByteOrder.LITTLE_ENDIAN;
                code = d;
            }
        }
        NpyType type = NpyType.fromCode(code);
        if (type == null) {
            throw new NpyFormatException(source, "dtype '" + d + "' is not supported " + describeUnsupported(code)
                    + "; use float16/32/64 or an integer type");
        }
        NpyHeader header = new NpyHeader(major, minor, type, order, f, shape, preamble.length + dictBytes.length);
        try {
            header.dataBytes();
        } catch (ArithmeticException e) {
            throw new NpyFormatException(source, "shape " + header.shapeText() + " overflows");
        }
        return header;
    }

    private static String describeUnsupported(String code) {
        if (code.startsWith("O")) {
            return "(object arrays hold Python objects, not numbers)";
        }
        if (code.startsWith("c")) {
            return "(complex)";
        }
        if (code.startsWith("U") || code.startsWith("S") || code.startsWith("a")) {
            return "(strings)";
        }
        if (code.startsWith("M") || code.startsWith("m")) {
            return "(dates/times)";
        }
        return "";
    }

    private static Object require(Map<String, Object> dict, String key, String source) throws NpyFormatException {
        if (!dict.containsKey(key)) {
            throw new NpyFormatException(source, "header lacks the '" + key + "' key");
        }
        return dict.get(key);
    }

    @Override
    public boolean equals(Object o) {
        return Records.equal(this, o); // every component, arrays by content
    }

    @Override
    public int hashCode() {
        return Records.hash(this);
    }

    /** The Python literal subset numpy writes: a dict of strings, booleans, integers and tuples. */
    private static final class DictParser {
        private static final int MAX_DEPTH = 8;
        private final String s;
        private final String source;
        private int pos;

        DictParser(String s, String source) {
            this.s = s;
            this.source = source;
        }

        Map<String, Object> parseDict() throws NpyFormatException {
            skipSpace();
            Object v = value(0);
            if (!(v instanceof Map<?, ?> map)) {
                throw error("header is not a dictionary");
            }
            skipSpace();
            if (pos != s.length()) {
                throw error("unexpected text after the header dictionary");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) map;
            return m;
        }

        private NpyFormatException error(String what) {
            return new NpyFormatException(source, "malformed header at character " + pos + ": " + what);
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private Object value(int depth) throws NpyFormatException {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            skipSpace();
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return dict(depth);
                case '(':
                    return sequence(depth, ')');
                case '[':
                    return sequence(depth, ']');
                case '\'':
                case '"':
                    return string();
                default:
                    if (s.startsWith("True", pos)) {
                        pos += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("False", pos)) {
                        pos += 5;
                        return Boolean.FALSE;
                    }
                    if (c == '-' || Character.isDigit(c)) {
                        return integer();
                    }
                    throw error("unexpected character '" + c + "'");
            }
        }

        private Map<String, Object> dict(int depth) throws NpyFormatException {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (pos < s.length() && s.charAt(pos) == '}') {
                    pos++;
                    return map;
                }
                Object key = value(depth + 1);
                if (!(key instanceof String k)) {
                    throw error("dictionary key is not a string");
                }
                skipSpace();
                expect(':');
                Object v = value(depth + 1);
                if (map.put(k, v) != null) {
                    throw error("duplicate key '" + k + "'");
                }
                skipSpace();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                } else if (pos < s.length() && s.charAt(pos) == '}') {
                    continue;
                } else {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> sequence(int depth, char close) throws NpyFormatException {
            pos++;
            List<Object> items = new ArrayList<>();
            while (true) {
                skipSpace();
                if (pos < s.length() && s.charAt(pos) == close) {
                    pos++;
                    return items;
                }
                items.add(value(depth + 1));
                skipSpace();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                } else if (pos >= s.length() || s.charAt(pos) != close) {
                    throw error("expected ',' or '" + close + "'");
                }
            }
        }

        private String string() throws NpyFormatException {
            char quote = s.charAt(pos++);
            StringBuilder sb = new StringBuilder();
            while (pos < s.length() && s.charAt(pos) != quote) {
                if (sb.length() > 256) {
                    throw error("string longer than 256 characters");
                }
                sb.append(s.charAt(pos++));
            }
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            pos++;
            return sb.toString();
        }

        private Long integer() throws NpyFormatException {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            String digits = s.substring(start, pos);
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++; // Python 2 long suffix
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("integer '" + digits + "' out of range");
            }
        }

        private void expect(char c) throws NpyFormatException {
            if (pos >= s.length() || s.charAt(pos) != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }
    }
}
