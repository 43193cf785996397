package org.alphawatch.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Hostile bodies for the decoder, with a fixed budget: whatever the bytes, decoding either yields
 * a valid array or throws {@link NpyFormatException} with a message; never another exception,
 * never an allocation sized by a header that lies.
 */
class NpyFuzzTest {
    private static final byte[] VALID = NpyWriter.toBytes(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);

    private static void decodeSafely(byte[] body) {
        try {
            NpyBody b = NpyBody.decode(body, true);
            assertThat(b.values().rows() * b.values().cols()).isLessThanOrEqualTo(body.length);
        } catch (NpyFormatException e) {
            assertThat(e.getMessage()).startsWith("request body").hasSizeGreaterThan(20);
        }
    }

    @Property(tries = 1500, seed = "71")
    void randomBytesAreRefusedCleanly(@ForAll @Size(max = 600) byte[] body) {
        decodeSafely(body);
    }

    @Property(tries = 1500, seed = "72")
    void mutatedValidBodiesAreRefusedOrDecoded(@ForAll @IntRange(min = 1, max = 8) int flips, @ForAll long seed) {
        Random r = new Random(seed);
        byte[] body = VALID.clone();
        for (int i = 0; i < flips; i++) {
            body[r.nextInt(body.length)] = (byte) r.nextInt(256);
        }
        if (r.nextBoolean()) {
            body = Arrays.copyOf(body, r.nextInt(body.length + 16));
        }
        decodeSafely(body);
    }

    @Property(tries = 400, seed = "73")
    void headersThatLieAboutHugeShapesFailBeforeAllocating(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int rows,
                                                          @ForAll @IntRange(min = -5, max = Integer.MAX_VALUE) int cols,
                                                          @ForAll("dtypes") String dtype) {
        String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        byte[] d = dict.getBytes(StandardCharsets.ISO_8859_1);
        byte[] body = new byte[10 + d.length + 64];
        System.arraycopy(NpyHeader.MAGIC, 0, body, 0, 6);
        body[6] = 1;
        body[8] = (byte) d.length;
        body[9] = (byte) (d.length >> 8);
        System.arraycopy(d, 0, body, 10, d.length);
        // Bytes this thread allocated while decoding (exact, unlike heap usage, which other threads
        // and the collector move): a header that lies must fail before any array of its size exists.
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        decodeSafely(body);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).isLessThan(1L << 20);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> dtypes() {
        return net.jqwik.api.Arbitraries.of("<f4", ">f8", "<f2", "|u1", "<i8", "<c16", "|O", "<U8", "f4", "<V12");
    }

    @Property(tries = 300, seed = "74")
    void deeplyNestedOrGarbageHeadersAreNamed(@ForAll @IntRange(min = 1, max = 5000) int depth) {
        String dict = "{'descr': " + "(".repeat(depth) + ")".repeat(depth) + "}";
        byte[] d = dict.getBytes(StandardCharsets.ISO_8859_1);
        byte[] body = new byte[12 + d.length];
        System.arraycopy(NpyHeader.MAGIC, 0, body, 0, 6);
        body[6] = 2;
        body[8] = (byte) d.length;
        body[9] = (byte) (d.length >> 8);
        body[10] = (byte) (d.length >> 16);
        System.arraycopy(d, 0, body, 12, d.length);
        decodeSafely(body);
    }
}
