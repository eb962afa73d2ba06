import pg from 'pg';

/** A connected client, named in pg_stat_activity so an operator can tell who holds what. */
export async function connect(connectionString: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString, application_name: applicationName });
  await client.connect();
  return client;
}
