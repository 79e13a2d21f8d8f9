import { ApiClient, describeError, type ApiError } from './api-client.js';
import { Dashboard } from './dashboard.js';
import { byId } from './dom.js';
import { forgetKey, SignIn, storedKey } from './sign-in.js';

/**
 * The status page's script, served at /status-page.js: asks for an API key, then shows the
 * relay and keeps it current. A key the relay refuses is forgotten and asked for again.
 */

function start(): void {
  const forget = byId('forget-key', HTMLButtonElement);
  const refused = (error: ApiError): void => {
    forgetKey();
    forget.hidden = true;
    signIn.show(`The relay refused this key: ${describeError(error)}`);
  };
  const dashboard = new Dashboard(refused);
  const open = async (key: string): Promise<boolean> => {
    const accepted = await dashboard.open(new ApiClient(key, document.baseURI));
    forget.hidden = !accepted;
    return accepted;
  };
  const signIn = new SignIn(open);

  forget.addEventListener('click', () => {
    forgetKey();
    dashboard.close();
    forget.hidden = true;
    signIn.show('');
  });

  const key = storedKey();
  if (key === null) signIn.show('');
  else void open(key);
}

start();
