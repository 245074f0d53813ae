"""Common given-name short forms -> the formal name, so "Bill" meets "William".

Deliberately small: a short form that stands for several names ("Alex") maps to the most
common one only; an exhaustive table would make every short name match everything.
"""

_GROUPS = {
    "william": "bill billy will willy liam",
    "robert": "bob bobby rob robbie bert",
    "richard": "dick rick ricky rich",
    "michael": "mike mikey mick mikhail",
    "james": "jim jimmy jamie",
    "john": "jack johnny jon",
    "joseph": "joe joey",
    "thomas": "tom tommy",
    "charles": "charlie chuck",
    "edward": "ed eddie ted ned",
    "alexander": "alex sasha sandy alek aleksandr alexandre alejandro",
    "alexandra": "sandra alexa",
    "elizabeth": "liz lizzy beth betty eliza",
    "margaret": "maggie meg peggy greta",
    "katherine": "kate kathy katie catherine kathryn",
    "daniel": "dan danny",
    "david": "dave davy",
    "anthony": "tony",
    "benjamin": "ben benny",
    "christopher": "chris kit",
    "nicholas": "nick nicky nikolai nicolas",
    "patrick": "pat paddy",
    "peter": "pete pyotr pierre pedro",
    "samuel": "sam sammy",
    "steven": "steve stephen stefan",
    "vladimir": "vova volodya",
    "dmitry": "dima dmitri",
    "ivan": "vanya",
    "yevgeny": "zhenya evgeny eugene",
    "francisco": "paco pancho",
    "jose": "pepe",
    "rebecca": "becky",
    "susan": "sue susie",
    "jennifer": "jen jenny",
    "victoria": "vicky",
    "andrew": "andy drew",
    "matthew": "matt",
    "gregory": "greg",
    "frederick": "fred freddie",
    "henry": "harry hank",
    "lawrence": "larry",
    "ronald": "ron ronnie",
    "timothy": "tim",
    "kenneth": "ken kenny",
}

NICKNAMES: dict[str, str] = {
    short: formal for formal, shorts in _GROUPS.items() for short in shorts.split()
}
