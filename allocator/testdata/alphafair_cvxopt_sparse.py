# The α-fair problems of BenchmarkAlphaFairVsCvxopt (JSON on stdin, as
# cvxoptInstance writes them) solved by cvxopt's solvers.cp (solvers.lp for
# α = 0, the throughput LP) with sparse
# matrices (its default chol2 KKT solver, CHOLMOD, unless argv[3] names
# another), stopping at the relative gap argv[1] (absolute gap argv[2]). Prints per problem the objective, FG rates, status, relative
# gap, iterations and the CPU and wall seconds spent in solvers.cp.
import json, math, sys, time
from cvxopt import matrix, spmatrix, solvers
tol = float(sys.argv[1]) if len(sys.argv) > 1 else 1e-6
abstol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-12
kkt = sys.argv[3] if len(sys.argv) > 3 else None
solvers.options.update({'show_progress': False, 'reltol': tol, 'abstol': abstol, 'feastol': min(tol, 1e-8), 'maxiters': 300})
if kkt == 'ldl':
    solvers.options['refinement'] = 3
out = []
for pr in json.load(sys.stdin):
    a, w, d, c, paths, group = pr['alpha'], pr['w'], pr['d'], pr['c'], pr['paths'], pr['group']
    n, m, ng = len(paths), len(c), len(w)
    members = [[] for _ in range(ng)]
    for p in range(n):
        members[group[p]].append(p)
    HI, HJ = [], []
    for g in range(ng):
        for p in members[g]:
            for q in members[g]:
                HI.append(p); HJ.append(q)
    def util(f):
        return math.log(f) if a == 1 else f ** (1 - a) / (1 - a)
    def F(x=None, z=None):
        if x is None:
            return 0, matrix(1e-3, (n, 1))
        s = [0.0] * ng
        for p in range(n):
            s[group[p]] += x[p]
        if min(s) <= 0:
            return None
        f = -sum(w[g] * util(s[g] / w[g]) for g in range(ng))
        Df = matrix([-(s[group[p]] / w[group[p]]) ** (-a) for p in range(n)], (1, n))
        if z is None:
            return f, Df
        hv = [z[0] * a * (s[group[p]] / w[group[p]]) ** (-a - 1) / w[group[p]] for p in HI]
        H = spmatrix(hv, HI, HJ, (n, n))
        return f, Df, (matrix(H) if kkt == 'ldl' else H)
    I, J, V, h = [], [], [], []
    for p in range(n):
        I.append(p); J.append(p); V.append(-1.0)
    h += [0.0] * n
    for p in range(n):
        for l in paths[p]:
            I.append(n + l); J.append(p); V.append(1.0)
    h += c
    row = n + m
    for g in range(ng):
        if d[g] is None:
            continue
        for p in members[g]:
            I.append(row); J.append(p); V.append(1.0)
        h.append(d[g])
        row += 1
    G = spmatrix(V, I, J, (row, n))
    t0 = time.process_time(); w0 = time.time()
    try:
        if a == 0:
            # The throughput LP: cvxopt's LP solver (cp, made for nonlinear
            # objectives, often stops short on it).
            sol = solvers.lp(matrix(-1.0, (n, 1)), G, matrix(h), kktsolver=kkt)
        else:
            sol = solvers.cp(F, G=G, h=matrix(h), kktsolver=kkt)
    except Exception as e:
        sys.stderr.write('exception %s\n' % e)
        out.append(None)
        continue
    cpu = time.process_time() - t0; wall = time.time() - w0
    x = sol['x']
    s = [0.0] * ng
    for p in range(n):
        s[group[p]] += max(x[p], 0.0)
    out.append({'objective': -sol['primal objective'], 's': s, 'status': sol['status'], 'rel_gap': sol['relative gap'], 'pinf': sol['primal infeasibility'], 'cpu': cpu, 'wall': wall})
json.dump(out, sys.stdout)
