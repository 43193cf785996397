package org.alphawatch.train;

import java.util.List;

/** Updates parameters in place from their gradients; holds its own per-parameter state. */
interface Optimizer {
    void step(List<double[]> params, List<double[]> grads);

    /** Plain (momentum) SGD. */
    static Optimizer sgd(double lr, double momentum) {
        return new Optimizer() {
            private double[][] velocity;

            @Override
            public void step(List<double[]> params, List<double[]> grads) {
                if (velocity == null) {
                    velocity = new double[params.size()][];
                    for (int i = 0; i < params.size(); i++) {
                        velocity[i] = new double[params.get(i).length];
                    }
                }
                for (int p = 0; p < params.size(); p++) {
                    double[] w = params.get(p);
                    double[] g = grads.get(p);
                    double[] v = velocity[p];
                    for (int i = 0; i < w.length; i++) {
                        v[i] = momentum * v[i] - lr * g[i];
                        w[i] += v[i];
                    }
                }
            }
        };
    }

    /** Adam (Kingma and Ba 2015) with bias correction. */
    static Optimizer adam(double lr) {
        return new Optimizer() {
            private static final double B1 = 0.9;
            private static final double B2 = 0.999;
            private static final double EPS = 1e-8;
            private double[][] m;
            private double[][] v;
            private int t;

            @Override
            public void step(List<double[]> params, List<double[]> grads) {
                if (m == null) {
                    m = new double[params.size()][];
                    v = new double[params.size()][];
                    for (int i = 0; i < params.size(); i++) {
                        m[i] = new double[params.get(i).length];
                        v[i] = new double[params.get(i).length];
                    }
                }
                t++;
                double c1 = 1 - Math.pow(B1, t);
                double c2 = 1 - Math.pow(B2, t);
                for (int p = 0; p < params.size(); p++) {
                    double[] w = params.get(p);
                    double[] g = grads.get(p);
                    double[] mp = m[p];
                    double[] vp = v[p];
                    for (int i = 0; i < w.length; i++) {
                        mp[i] = B1 * mp[i] + (1 - B1) * g[i];
                        vp[i] = B2 * vp[i] + (1 - B2) * g[i] * g[i];
                        w[i] -= lr * (mp[i] / c1) / (Math.sqrt(vp[i] / c2) + EPS);
                    }
                }
            }
        };
    }
}
