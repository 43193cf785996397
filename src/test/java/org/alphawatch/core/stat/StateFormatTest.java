package org.alphawatch.core.stat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32C;
import org.alphawatch.testing.Dense;
import org.junit.jupiter.api.Test;

class StateFormatTest {
    private static CovarianceAccumulator sample() {
        CovarianceAccumulator acc = CovarianceAccumulator.create(5);
        acc.update(Dense.gaussian(new Random(21), 30, 5), 30);
        acc.decay(0.5);
        return acc;
    }

    @Test
    void roundTripIsBitExact() {
        CovarianceAccumulator acc = sample();
        byte[] bytes = acc.toByteArray();
        CovarianceAccumulator back = CovarianceAccumulator.fromByteArray(bytes);
        assertThat(back.toByteArray()).isEqualTo(bytes);
        assertThat(back.snapshot()).isEqualTo(acc.snapshot());
        assertThat(back.count()).isEqualTo(30);
        assertThat(back.weight()).isEqualTo(15.0);
    }

    @Test
    void crossRoundTripIsBitExact() {
        CrossCovarianceAccumulator acc = CrossCovarianceAccumulator.create(4);
        Random random = new Random(22);
        acc.update(Dense.gaussian(random, 12, 4), Dense.gaussian(random, 12, 4), 12);
        byte[] bytes = acc.toByteArray();
        CrossCovarianceAccumulator back = CrossCovarianceAccumulator.fromByteArray(bytes);
        assertThat(back.toByteArray()).isEqualTo(bytes);
        assertThat(back.snapshot()).isEqualTo(acc.snapshot());
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(bytes)).hasMessageContaining("magic");
    }

    @Test
    void everyTruncationIsRejected() {
        byte[] bytes = sample().toByteArray();
        for (int len = 0; len < bytes.length; len++) {
            byte[] cut = Arrays.copyOf(bytes, len);
            assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(cut))
                    .isInstanceOf(InvalidStateException.class)
                    .hasMessageContaining("covariance state");
        }
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(longer)).hasMessageContaining("trailing bytes");
    }

    @Test
    void everySingleBitFlipIsRejected() {
        byte[] bytes = sample().toByteArray();
        for (int i = 0; i < bytes.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] flipped = bytes.clone();
                flipped[i] ^= (byte) (1 << bit);
                assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(flipped))
                        .isInstanceOf(InvalidStateException.class);
            }
        }
    }

    /** Rewrites a header field and re-seals the checksum, to test field validation behind the CRC. */
    private static byte[] resealed(byte[] bytes, int offset, byte[] value) {
        byte[] b = bytes.clone();
        System.arraycopy(value, 0, b, offset, value.length);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        ByteBuffer.wrap(b, b.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return b;
    }

    private static byte[] le(int bytes, long v) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        return Arrays.copyOf(b.array(), bytes);
    }

    @Test
    void fieldsAreValidatedEvenWithAValidChecksum() {
        byte[] bytes = sample().toByteArray();
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(resealed(bytes, 4, le(2, 2))))
                .hasMessageContaining("format version 2 is not supported");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(resealed(bytes, 6, le(2, 1))))
                .hasMessageContaining("reserved");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(resealed(bytes, 8, le(4, 0))))
                .hasMessageContaining("dims 0");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(resealed(bytes, 8, le(4, 6))))
                .hasMessageContaining("6 dims need");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(resealed(bytes, 12, le(8, -1))))
                .hasMessageContaining("negative count");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(
                resealed(bytes, 20, le(8, Double.doubleToLongBits(Double.NaN)))))
                .hasMessageContaining("weight NaN");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(
                resealed(bytes, 20, le(8, Double.doubleToLongBits(31.0)))))
                .hasMessageContaining("weight 31.0 is not within 0..30");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(
                resealed(bytes, 28, le(8, Double.doubleToLongBits(Double.POSITIVE_INFINITY)))))
                .hasMessageContaining("mean holds a non-finite value");
        // First diagonal co-moment (after the 5 means and their 5 low parts) made negative.
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(
                resealed(bytes, 28 + 10 * 8, le(8, Double.doubleToLongBits(-1.0)))))
                .hasMessageContaining("negative diagonal co-moment at 0");
        assertThatThrownBy(() -> CovarianceAccumulator.fromByteArray(null)).hasMessageContaining("no bytes");
    }
}
