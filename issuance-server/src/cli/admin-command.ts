import { readFileSync } from 'node:fs';
import { createContext } from '../context.ts';
import { defaultServerConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { AdminError } from '../services/admin-service.ts';
import { parseOptions, UsageError } from './main.ts';

function readInput(path: string | undefined, what: string): Buffer {
  if (!path) throw new UsageError(`${what} file is required`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new AdminError(`cannot read ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** `admin`: the municipality's operations on the data directory (exit 1 on bad input). */
export async function runAdmin(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    'data-dir': { type: 'string' },
    'municipality-code': { type: 'string' },
    'municipality-name': { type: 'string' },
    resident: { type: 'string' },
    certificate: { type: 'string' },
    name: { type: 'string' },
    location: { type: 'string' },
  });
  if (!values['data-dir']) throw new UsageError('--data-dir is required');
  const config = defaultServerConfig(values['data-dir']);
  const ctx = createContext(config, createLogger('warn'), () => '');
  const admin = ctx.admin;
  const [group, action, file, ...extra] = positionals;
  const need = (n: number) => {
    if (positionals.length !== n) throw new UsageError(`"${positionals.join(' ')}" takes ${n - 1} argument(s)`);
  };
  try {
    switch (`${group ?? ''} ${group === 'init' ? '' : (action ?? '')}`.trim()) {
      case 'init':
        need(1);
        if (!values['municipality-code'] || !values['municipality-name']) throw new UsageError('init needs --municipality-code and --municipality-name');
        admin.init(values['municipality-code'], values['municipality-name']);
        console.log(`initialised ${values['municipality-name']} (${values['municipality-code']}) in ${values['data-dir']}`);
        return 0;
      case 'trust-anchor add': {
        need(3);
        const r = admin.addTrustAnchor(readInput(file, 'certificate'));
        console.log(`${r.added ? 'added' : 'already present'}: ${r.subject} sha256=${r.sha256}`);
        return 0;
      }
      case 'crl import': {
        need(3);
        const r = await admin.importCrl(readInput(file, 'CRL'));
        console.log(`imported CRL of ${r.issuer}: ${r.revoked} revoked certificate(s)`);
        return 0;
      }
      case 'residents import': {
        need(3);
        const r = admin.importResidents(readInput(file, 'CSV').toString('utf8'));
        console.log(`imported ${r.imported} resident(s)`);
        return 0;
      }
      case 'card link': {
        need(2);
        if (!values.resident) throw new UsageError('card link needs --resident ID');
        const r = admin.linkCard(values.resident, readInput(values.certificate, '--certificate'));
        console.log(`linked ${r.subject} (sha256=${r.sha256}) to resident ${values.resident}`);
        return 0;
      }
      case 'kiosk register': {
        need(2);
        if (!values.name || !values.location) throw new UsageError('kiosk register needs --name and --location');
        const r = admin.registerKiosk(values.name, values.location);
        console.log(`registered kiosk ${r.id}; its credential (shown once, store it on the kiosk):`);
        console.log(r.credential);
        return 0;
      }
      case 'audit verify': {
        need(2);
        const r = admin.verifyAudit();
        if (r.firstBad) {
          console.error(`audit log broken at row ${r.firstBad.seq}: ${r.firstBad.reason}`);
          return 1;
        }
        console.log(`audit log intact: ${r.rows} row(s)`);
        return 0;
      }
      default:
        throw new UsageError(`unknown admin command "${[group, action, file, ...extra].filter(Boolean).join(' ')}"`);
    }
  } catch (e) {
    if (e instanceof AdminError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    ctx.db.close();
  }
}
