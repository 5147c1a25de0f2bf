"""Query parsing both APIs share: paging (limit, marker), sorting, quoted
lists, and the paging options."""
import uuid

from oslo_config import cfg
import webob.exc

CONF = cfg.CONF

paging_opts = [
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help='Images in a page of a list when the client gives no '
                    'limit.'),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help='Most images in a page of a list, whatever limit the '
                    'client asks for.'),
]
CONF.register_opts(paging_opts)

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
SORT_DIRS = ('asc', 'desc')


# The range of the databases' 64-bit integer columns (size, virtual_size;
# min_disk and min_ram are narrower, but compare with any 64-bit value).
DB_INT_RANGE = range(-2 ** 63, 2 ** 63)


def _bad_request(message):
    return webob.exc.HTTPBadRequest(explanation=message)


def filter_integer(value):
    """The integer of a filter's value; ValueError if it is not one, or
    one no database compares with a column (SQLite refuses them)."""
    number = int(value)
    if number not in DB_INT_RANGE:
        raise ValueError('%s is out of range' % value)
    return number


def parse_limit(params):
    """The page size asked for, defaulted and capped by the options."""
    value = params.get('limit')
    if value is None:
        limit = CONF.limit_param_default
    else:
        try:
            limit = int(value)
        except ValueError:
            raise _bad_request('limit param must be an integer')
        if limit < 0:
            raise _bad_request('limit param must be positive')
    return min(CONF.api_limit_max, limit)


def parse_marker(params, uuid_only=False):
    """The marker (None if not given). uuid_only: refuse a marker that is
    not an image id (the v1 API checks it; v2 leaves that to the list)."""
    marker = params.get('marker')
    if marker and uuid_only:
        try:
            uuid.UUID(marker)
        except ValueError:
            raise _bad_request('Invalid marker format')
    return marker


def split_quoted_list(value):
    """`a,"b, c",d` -> ['a', 'b, c', 'd'] (backslash escapes a quote)."""
    items, current, quoted, after_quote = [], '', False, False
    index = 0
    while index < len(value):
        char = value[index]
        if quoted:
            if char == '\\' and index + 1 < len(value):
                current += value[index + 1]
                index += 1
            elif char == '"':
                quoted, after_quote = False, True
            else:
                current += char
        elif char == '"':
            if current:
                raise _bad_request(
                    'Invalid filter value %s. There is no comma before '
                    'opening quotation mark.' % value)
            quoted = True
        elif char == ',':
            items.append(current)
            current, after_quote = '', False
        else:
            if after_quote:
                raise _bad_request(
                    'Invalid filter value %s. There is no comma after '
                    'closing quotation mark.' % value)
            current += char
        index += 1
    if quoted:
        raise _bad_request('Invalid filter value %s. The quote is not '
                           'closed.' % value)
    items.append(current)
    return items


def parse_sort(params):
    """([(key, dir)], tie_direction) from `sort=k:dir,...` or repeated
    `sort_key`/`sort_dir` (the v2 API). Ties are broken by created_at and
    id in the one direction given, if exactly one was, else descending (as
    upstream)."""
    def key(value):
        value = value.strip()
        if value not in SORT_KEYS:
            raise _bad_request(
                'Invalid sort key: %s. It must be one of the following: %s.'
                % (value, ', '.join(SORT_KEYS)))
        return value

    def direction(value):
        value = value.strip()
        if value not in SORT_DIRS:
            raise _bad_request('Invalid sort direction: %s' % value)
        return value

    if 'sort' in params:
        if 'sort_key' in params or 'sort_dir' in params:
            raise _bad_request('Old and new sorting syntax cannot be '
                               'combined')
        sort = []
        for item in params['sort'].strip().split(','):
            name, _, way = item.partition(':')
            sort.append((key(name), direction(way or 'desc')))
        return sort, sort[0][1] if len(sort) == 1 else 'desc'
    keys = [key(k) for k in params.getall('sort_key')]
    dirs = [direction(d) for d in params.getall('sort_dir')]
    if len(dirs) > 1 and len(dirs) != len(keys):
        raise _bad_request('Number of sort dirs does not match the number '
                           'of sort keys')
    keys = keys or ['created_at']
    tie_direction = dirs[0] if len(dirs) == 1 else 'desc'
    if len(dirs) <= 1:
        dirs = (dirs or ['desc']) * len(keys)
    return list(zip(keys, dirs, strict=True)), tie_direction


def parse_single_sort(params):
    """([(key, dir)], tie_direction) from one `sort_key` and `sort_dir`
    (the v1 API, worded as it was)."""
    sort_key = params.get('sort_key', 'created_at')
    if sort_key not in SORT_KEYS:
        raise _bad_request('Unsupported sort_key. Acceptable values: %s'
                           % ', '.join(SORT_KEYS))
    sort_dir = params.get('sort_dir', 'desc')
    if sort_dir not in SORT_DIRS:
        raise _bad_request('Unsupported sort_dir. Acceptable values: %s'
                           % ', '.join(SORT_DIRS))
    return [(sort_key, sort_dir)], sort_dir


def list_opts():
    return [(None, paging_opts)]
