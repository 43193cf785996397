package org.alphawatch.io;

/**
 * A request body of one 2-D {@code .npy} array, optionally followed by a second one (a probe's
 * latent values, same number of rows). Both are validated exactly like files.
 */
public record NpyBody(NpyArray values, NpyArray latent) {
    /**
     * Bytes {@link #decode} will allocate for the arrays of {@code body}, from the headers alone
     * (checked against a memory budget before any array exists).
     */
    public static long decodedBytes(byte[] body, boolean allowSecond) throws NpyFormatException {
        String source = "request body";
        long first = NpyReader.arrayLength(body, 0, body.length, source);
        long total = 0;
        if (first <= body.length) {
            try (NpyReader r = NpyReader.of(body, 0, (int) first, source)) {
                total += r.decodedBytes();
            } catch (NpyFormatException e) {
                throw e;
            } catch (java.io.IOException e) {
                throw new NpyFormatException(source, e.getMessage());
            }
            if (allowSecond && first < body.length) {
                long second = NpyReader.arrayLength(body, (int) first, (int) (body.length - first), source);
                if (second <= body.length - first) {
                    try (NpyReader r = NpyReader.of(body, (int) first, (int) second, source)) {
                        total += r.decodedBytes();
                    } catch (NpyFormatException e) {
                        throw e;
                    } catch (java.io.IOException e) {
                        throw new NpyFormatException(source, e.getMessage());
                    }
                }
            }
        }
        return total;
    }

    public static NpyBody decode(byte[] body, boolean allowSecond) throws NpyFormatException {
        String source = "request body";
        long first = NpyReader.arrayLength(body, 0, body.length, source);
        if (first > body.length) {
            // The reader's length check words the truncation precisely; it always throws here.
            NpyReader.of(body, source);
            throw new NpyFormatException(source, "truncated");
        }
        NpyArray values;
        try (NpyReader r = NpyReader.of(body, 0, (int) first, source)) {
            values = r.readAll();
        } catch (NpyFormatException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new NpyFormatException(source, e.getMessage());
        }
        if (first == body.length) {
            return new NpyBody(values, null);
        }
        if (!allowSecond) {
            throw new NpyFormatException(source, (body.length - first)
                    + " bytes follow the array (a second array is accepted only for kind=probe latent values)");
        }
        String latentSource = "request body (latent array)";
        NpyArray latent;
        try (NpyReader r = NpyReader.of(body, (int) first, (int) (body.length - first), latentSource)) {
            latent = r.readAll();
        } catch (NpyFormatException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new NpyFormatException(latentSource, e.getMessage());
        }
        if (latent.rows() != values.rows()) {
            throw new NpyFormatException(latentSource, latent.rows() + " rows, but the activations have "
                    + values.rows());
        }
        return new NpyBody(values, latent);
    }
}
